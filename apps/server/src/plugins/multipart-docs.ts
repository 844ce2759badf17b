import type { SwaggerTransform } from '@fastify/swagger';
import { Type, type TSchema } from 'typebox';

/** A file part, as OpenAPI describes an uploaded file in a multipart form. */
export const FilePart = (description: string) => Type.String({ format: 'binary', description });

/**
 * Documents a multipart route's form in OpenAPI without validating it: a `body` schema on the route
 * itself would make Fastify validate `request.body`, which @fastify/multipart leaves empty (the parts
 * are streamed by the handler). The route sets this as `config.swaggerTransform`.
 */
export function documentMultipartForm(form: TSchema): SwaggerTransform {
  return ({ schema, url }) => ({ schema: { ...schema, body: form, consumes: ['multipart/form-data'] }, url });
}
