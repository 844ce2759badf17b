-- AlterEnum
ALTER TYPE "rollout_state" ADD VALUE 'rolled_back';

-- AlterTable
ALTER TABLE "releases" ADD COLUMN     "staged" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "rollouts" ADD COLUMN     "errors_acknowledged" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "rollback_release_id" UUID;
