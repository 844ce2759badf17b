import { Type, type Static } from 'typebox';

/** Every error answer of the API has this shape; `code` is stable, `message` is for people. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    code: Type.String({
      pattern: '^MF_ERR_[A-Z0-9_]+$',
      description: 'Stable error code; match on this, not on the message.',
    }),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    requestId: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse', title: 'ErrorResponse' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'lower-case hex sha256' });
export type Sha256 = Static<typeof Sha256>;
