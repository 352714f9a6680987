-- Replicated indexes (issue 17): an index has one row per replica, each on a different vector-store node.
-- Every existing index becomes one replica on the node that held it; indexes.node_id goes (the replicas are the
-- one place that says where an index lives). Gateways of the previous version read node_id: stop them before
-- this migration runs (no mixed-version rolling upgrade across it).
CREATE TABLE "index_replicas" (
    "index_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "index_replicas_pkey" PRIMARY KEY ("index_id", "node_id")
);

CREATE INDEX "index_replicas_node_id_idx" ON "index_replicas"("node_id");

ALTER TABLE "index_replicas" ADD CONSTRAINT "index_replicas_index_id_fkey" FOREIGN KEY ("index_id") REFERENCES "indexes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "index_replicas" ADD CONSTRAINT "index_replicas_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "vector_store_nodes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

INSERT INTO "index_replicas" ("index_id", "node_id", "created_at") SELECT "id", "node_id", "created_at" FROM "indexes";

ALTER TABLE "indexes" DROP CONSTRAINT "indexes_node_id_fkey";
DROP INDEX "indexes_node_id_idx";
ALTER TABLE "indexes" DROP COLUMN "node_id";

-- A draining node takes no new replicas, and repair moves the replicas it holds to other nodes.
ALTER TABLE "vector_store_nodes" ADD COLUMN "draining" BOOLEAN NOT NULL DEFAULT false;
