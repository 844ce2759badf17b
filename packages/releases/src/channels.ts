import type { Channel, Database } from '@modelfleet/db';

/**
 * The channel row of a line, created on first use (channels are named in policies and publish
 * requests). Prisma's upsert is a read then a write, so two first uses at once can both try to
 * create: the unique index lets one win and the other reads what the winner wrote.
 */
export async function ensureChannel(db: Database, lineId: string, name: string): Promise<Channel> {
  const where = { lineId_name: { lineId, name } };
  const existing = await db.prisma.channel.findUnique({ where });
  if (existing !== null) return existing;
  try {
    return await db.prisma.channel.create({ data: { lineId, name } });
  } catch (error) {
    if ((error as { code?: string }).code !== 'P2002') throw error;
    return db.prisma.channel.findUniqueOrThrow({ where });
  }
}
