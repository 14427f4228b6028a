import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';

/** True for an object schema whose every property is a string: path parameters in that shape need no conversion. */
function onlyStringProperties(schema: TSchema): boolean {
  const { type, properties } = schema as { type?: unknown; properties?: Record<string, { type?: unknown }> };
  return type === 'object' && properties !== undefined && Object.values(properties).every((property) => property.type === 'string');
}

/**
 * TypeBox validation for every route (unknown properties refused, bodies never coerced), as
 * `TypeBoxValidatorCompiler`, which converts querystring, params and headers from their strings to
 * the schema's types (`Value.Convert`) before checking. Path parameters are always strings (the
 * router hands out nothing else), so for a params schema of string properties only (`{ guid }`)
 * that conversion returns its input unchanged; it is skipped there, since it walked and copied the
 * parameters on every request (~3% of a GET /image/{guid} profile). Querystrings keep the
 * conversion: a repeated key arrives as an array.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = (route) =>
  route.httpPart === 'params' && onlyStringProperties(route.schema)
    ? TypeBoxValidatorCompiler({ ...route, httpPart: 'body' })
    : TypeBoxValidatorCompiler(route);
