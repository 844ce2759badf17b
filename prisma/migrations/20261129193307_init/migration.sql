-- CreateEnum
CREATE TYPE "model_version_status" AS ENUM ('uploaded', 'optimizing', 'ready', 'failed');

-- CreateEnum
CREATE TYPE "dataset_role" AS ENUM ('test', 'calibration', 'train');

-- CreateEnum
CREATE TYPE "device_update_state" AS ENUM ('downloading', 'downloaded', 'installed', 'failed', 'rolled_back');

-- CreateEnum
CREATE TYPE "download_kind" AS ENUM ('full', 'delta');

-- CreateEnum
CREATE TYPE "rollout_state" AS ENUM ('running', 'awaiting_approval', 'paused', 'completed', 'aborted');

-- CreateEnum
CREATE TYPE "rollout_wave_state" AS ENUM ('pending', 'running', 'succeeded', 'halted');

-- CreateEnum
CREATE TYPE "rollout_device_state" AS ENUM ('pending', 'in_progress', 'succeeded', 'failed', 'timed_out');

-- CreateEnum
CREATE TYPE "api_key_scope" AS ENUM ('read', 'upload', 'publish', 'admin');

-- CreateEnum
CREATE TYPE "blob_kind" AS ENUM ('model_source', 'artifact', 'dataset', 'delta');

-- CreateTable
CREATE TABLE "model_lines" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "preprocessing" JSONB NOT NULL,
    "policy" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "model_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_versions" (
    "id" UUID NOT NULL,
    "line_id" UUID NOT NULL,
    "status" "model_version_status" NOT NULL DEFAULT 'uploaded',
    "progress_stage" TEXT,
    "progress_percent" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "error_code" TEXT,
    "error_message" TEXT,
    "model_json_sha256" TEXT NOT NULL,
    "weight_shard_sha256s" TEXT[],
    "source_bytes" INTEGER NOT NULL,
    "winner_candidate_id" UUID,
    "selection" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "datasets" (
    "id" UUID NOT NULL,
    "line_id" UUID NOT NULL,
    "role" "dataset_role" NOT NULL,
    "name" TEXT,
    "blob_sha256" TEXT NOT NULL,
    "sample_count" INTEGER NOT NULL,
    "class_counts" JSONB NOT NULL,
    "class_names" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "candidates" (
    "id" UUID NOT NULL,
    "version_id" UUID NOT NULL,
    "variant" TEXT NOT NULL,
    "encoding" TEXT NOT NULL,
    "artifact_sha256" TEXT NOT NULL,
    "file_bytes" INTEGER NOT NULL,
    "wire_bytes" INTEGER NOT NULL,
    "accuracy" DOUBLE PRECISION NOT NULL,
    "train_accuracy" DOUBLE PRECISION,
    "accuracy_simulated" BOOLEAN NOT NULL,
    "latency_median_ms" DOUBLE PRECISION NOT NULL,
    "latency_p90_ms" DOUBLE PRECISION NOT NULL,
    "objective" DOUBLE PRECISION NOT NULL,
    "eligible" BOOLEAN NOT NULL,
    "ineligible_reason" TEXT,
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "candidates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "channels" (
    "id" UUID NOT NULL,
    "line_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "channels_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "releases" (
    "id" UUID NOT NULL,
    "line_id" UUID NOT NULL,
    "channel_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "candidate_id" UUID NOT NULL,
    "artifact_sha256" TEXT NOT NULL,
    "artifact_bytes" INTEGER NOT NULL,
    "manifest" JSONB NOT NULL,
    "signature" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "republished_from_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "releases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrollment_tokens" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "scope" JSONB NOT NULL DEFAULT '{}',
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrollment_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices" (
    "id" UUID NOT NULL,
    "device_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "tags" TEXT[],
    "hardware_class" TEXT,
    "runtime" TEXT,
    "channel_id" UUID,
    "current_artifact_sha256" TEXT,
    "current_release_id" UUID,
    "pinned_release_id" UUID,
    "state" "device_update_state",
    "last_error" TEXT,
    "last_smoke_latency_ms" DOUBLE PRECISION,
    "enrollment_token_id" UUID,
    "enrolled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_reports" (
    "id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "state" "device_update_state" NOT NULL,
    "release_id" UUID,
    "artifact_sha256" TEXT,
    "error" TEXT,
    "download_kind" "download_kind",
    "bytes_downloaded" INTEGER,
    "smoke_latency_ms" DOUBLE PRECISION,
    "occurred_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollouts" (
    "id" UUID NOT NULL,
    "release_id" UUID NOT NULL,
    "channel_id" UUID NOT NULL,
    "tag_filter" TEXT[],
    "state" "rollout_state" NOT NULL DEFAULT 'running',
    "success_threshold" DOUBLE PRECISION NOT NULL,
    "error_threshold_count" INTEGER,
    "error_threshold_fraction" DOUBLE PRECISION,
    "in_progress_timeout_seconds" INTEGER NOT NULL,
    "auto_advance" BOOLEAN NOT NULL DEFAULT true,
    "current_wave" INTEGER NOT NULL DEFAULT 0,
    "state_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_waves" (
    "id" UUID NOT NULL,
    "rollout_id" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "percent" DOUBLE PRECISION,
    "device_ids" TEXT[],
    "state" "rollout_wave_state" NOT NULL DEFAULT 'pending',
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollout_waves_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_devices" (
    "rollout_id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "wave_index" INTEGER NOT NULL,
    "state" "rollout_device_state" NOT NULL DEFAULT 'pending',
    "assigned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rollout_devices_pkey" PRIMARY KEY ("rollout_id","device_id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" "api_key_scope"[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "blobs" (
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "kind" "blob_kind" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "blobs_pkey" PRIMARY KEY ("sha256")
);

-- CreateTable
CREATE TABLE "artifact_deltas" (
    "from_sha256" TEXT NOT NULL,
    "to_sha256" TEXT NOT NULL,
    "delta_sha256" TEXT NOT NULL,
    "delta_bytes" INTEGER NOT NULL,
    "format_version" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifact_deltas_pkey" PRIMARY KEY ("from_sha256","to_sha256")
);

-- CreateIndex
CREATE UNIQUE INDEX "model_lines_name_key" ON "model_lines"("name");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_winner_candidate_id_key" ON "model_versions"("winner_candidate_id");

-- CreateIndex
CREATE INDEX "model_versions_line_id_created_at_idx" ON "model_versions"("line_id", "created_at");

-- CreateIndex
CREATE INDEX "datasets_line_id_role_idx" ON "datasets"("line_id", "role");

-- CreateIndex
CREATE INDEX "candidates_artifact_sha256_idx" ON "candidates"("artifact_sha256");

-- CreateIndex
CREATE UNIQUE INDEX "candidates_version_id_variant_key" ON "candidates"("version_id", "variant");

-- CreateIndex
CREATE UNIQUE INDEX "channels_line_id_name_key" ON "channels"("line_id", "name");

-- CreateIndex
CREATE INDEX "releases_channel_id_number_idx" ON "releases"("channel_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "releases_line_id_channel_id_number_key" ON "releases"("line_id", "channel_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "enrollment_tokens_prefix_key" ON "enrollment_tokens"("prefix");

-- CreateIndex
CREATE UNIQUE INDEX "enrollment_tokens_token_hash_key" ON "enrollment_tokens"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "devices_device_id_key" ON "devices"("device_id");

-- CreateIndex
CREATE UNIQUE INDEX "devices_token_hash_key" ON "devices"("token_hash");

-- CreateIndex
CREATE INDEX "devices_channel_id_idx" ON "devices"("channel_id");

-- CreateIndex
CREATE INDEX "devices_current_release_id_idx" ON "devices"("current_release_id");

-- CreateIndex
CREATE INDEX "device_reports_release_id_state_idx" ON "device_reports"("release_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "device_reports_device_id_idempotency_key_key" ON "device_reports"("device_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "rollouts_channel_id_state_idx" ON "rollouts"("channel_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "rollout_waves_rollout_id_index_key" ON "rollout_waves"("rollout_id", "index");

-- CreateIndex
CREATE INDEX "rollout_devices_device_id_idx" ON "rollout_devices"("device_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys"("hash");

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "model_lines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_winner_candidate_id_fkey" FOREIGN KEY ("winner_candidate_id") REFERENCES "candidates"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "model_lines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "candidates" ADD CONSTRAINT "candidates_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "channels" ADD CONSTRAINT "channels_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "model_lines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_line_id_fkey" FOREIGN KEY ("line_id") REFERENCES "model_lines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_candidate_id_fkey" FOREIGN KEY ("candidate_id") REFERENCES "candidates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "releases" ADD CONSTRAINT "releases_republished_from_id_fkey" FOREIGN KEY ("republished_from_id") REFERENCES "releases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_current_release_id_fkey" FOREIGN KEY ("current_release_id") REFERENCES "releases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_pinned_release_id_fkey" FOREIGN KEY ("pinned_release_id") REFERENCES "releases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_enrollment_token_id_fkey" FOREIGN KEY ("enrollment_token_id") REFERENCES "enrollment_tokens"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_reports" ADD CONSTRAINT "device_reports_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_reports" ADD CONSTRAINT "device_reports_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_waves" ADD CONSTRAINT "rollout_waves_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_devices" ADD CONSTRAINT "rollout_devices_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_devices" ADD CONSTRAINT "rollout_devices_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
