-- The 2026-07 index schema (vector and metadata fields, Pinecone's wire shape). NULL for indexes created
-- before it existed: their schema follows from dimension, metric and vector_type.
ALTER TABLE "indexes" ADD COLUMN "schema" JSONB;
