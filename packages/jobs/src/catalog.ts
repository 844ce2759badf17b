import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import type { AnyJobDefinition } from './job-definition.js';
import { DuplicateJobName, InvalidJobId, InvalidJobPayload, UnknownJob } from './errors.js';

/** The jobs an application knows: name -> payload schema -> processor. */
export interface JobCatalog<Jobs extends AnyJobDefinition = AnyJobDefinition> {
  readonly names: readonly Jobs['name'][];
  /** The definition of `name`; throws MF_ERR_JOB_UNKNOWN when the catalog has none. */
  get(name: string): Jobs;
  has(name: string): boolean;
}

export function createJobCatalog<const Jobs extends readonly AnyJobDefinition[]>(jobs: Jobs): JobCatalog<Jobs[number]> {
  const byName = new Map<string, Jobs[number]>();
  for (const job of jobs) {
    if (byName.has(job.name)) throw new DuplicateJobName(job.name);
    byName.set(job.name, job);
  }
  return {
    names: [...byName.keys()],
    get(name) {
      const job = byName.get(name);
      if (job === undefined) throw new UnknownJob(name);
      return job;
    },
    has: (name) => byName.has(name),
  };
}

type JobsOf<Catalog> = Catalog extends JobCatalog<infer Jobs> ? Jobs : never;
type JobNamed<Catalog, Name> = Extract<JobsOf<Catalog>, { name: Name }>;

export type JobName<Catalog> = JobsOf<Catalog>['name'];
export type JobPayload<Catalog, Name extends JobName<Catalog>> = Static<JobNamed<Catalog, Name>['payload']>;
export type JobResult<Catalog, Name extends JobName<Catalog>> = Awaited<ReturnType<JobNamed<Catalog, Name>['process']>>;
type ServicesOf<Job> = Job extends { process(payload: never, context: infer Context): unknown }
  ? Context extends { services: infer Services }
    ? Services
    : never
  : never;
type UnionToIntersection<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void
  ? I
  : never;
/**
 * What the host must provide to run every job of the catalog: the intersection of what each job
 * asks for, so a host that lacks what one job needs does not typecheck.
 */
export type CatalogServices<Catalog> = UnionToIntersection<ServicesOf<JobsOf<Catalog>>>;

/** Throws MF_ERR_JOB_PAYLOAD_INVALID (400) listing what is wrong with the payload. */
export function assertValidPayload(job: AnyJobDefinition, payload: unknown): void {
  if (Value.Check(job.payload, payload)) return;
  const problems = [...Value.Errors(job.payload, payload)]
    .slice(0, 5)
    .map((error) => `${error.instancePath || '/'} ${error.message}`);
  throw new InvalidJobPayload(job.name, problems.join('; '), { details: { problems } });
}

/**
 * Custom job ids deduplicate enqueues. BullMQ refuses integer ids (they collide with its own
 * counter) and ids with ':' (its key separator); both drivers apply the same rule.
 */
const JOB_ID = /^[A-Za-z0-9_.-]{1,200}$/;
export function assertValidJobId(jobId: string): void {
  if (!JOB_ID.test(jobId) || /^\d+$/.test(jobId)) throw new InvalidJobId(jobId);
}
