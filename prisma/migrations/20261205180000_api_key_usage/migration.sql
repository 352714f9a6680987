-- Per-key hourly usage counters (apps/gateway/src/usage): added to in batches by every gateway replica.
CREATE TABLE "api_key_usage" (
    "api_key_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "reads" BIGINT NOT NULL DEFAULT 0,
    "writes" BIGINT NOT NULL DEFAULT 0,
    "errors" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "api_key_usage_pkey" PRIMARY KEY ("api_key_id", "hour")
);

-- CreateIndex
CREATE INDEX "api_key_usage_project_id_hour_idx" ON "api_key_usage"("project_id", "hour");

-- CreateIndex
CREATE INDEX "api_key_usage_hour_idx" ON "api_key_usage"("hour");
