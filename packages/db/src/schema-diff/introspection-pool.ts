import pg from 'pg';

/** OIDs of PostgreSQL's internal one-byte `"char"` type and of `text`. */
const charOid = 18;
const textOid = 25;

type QueryResultLike = { fields?: { dataTypeID: number }[] };

/**
 * A small pool on the same server and schema as `pool`, for the schema engine's introspection only.
 *
 * Its clients report `"char"` columns as `text`: introspection reads catalog columns such as
 * `pg_class.relkind`, whose type is `"char"`, and @prisma/adapter-pg 7.10 has no mapping for it
 * (the diff fails with UnsupportedNativeDataType, seen here; pglite-prisma-adapter maps it). The
 * value is a one-character string either way, so reporting it as text changes nothing else.
 */
export function createIntrospectionPool(pool: pg.Pool): pg.Pool {
  const introspectionPool = new pg.Pool({ ...pool.options, max: 2 });
  // The adapter queries through the pool (promise form) and, in transactions, through clients.
  reportCharAsText(introspectionPool);
  introspectionPool.on('connect', (client) => reportCharAsText(client));
  return introspectionPool;
}

function reportCharAsText(queryable: { query: unknown }): void {
  const query = (queryable.query as (...args: unknown[]) => unknown).bind(queryable);
  queryable.query = (...args: unknown[]) => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result; // callback form: pg-pool's own use, left alone
    return result.then((value: QueryResultLike) => {
      for (const field of value.fields ?? []) {
        if (field.dataTypeID === charOid) field.dataTypeID = textOid;
      }
      return value;
    });
  };
}
