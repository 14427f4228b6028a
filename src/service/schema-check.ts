import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { DataValidationError, type FieldError } from '../core/errors.js';
import { illFormedTextErrors } from '../core/unicode-text.js';

const FRIENDLY: Record<string, string> = {
  pattern: 'must not be blank or contain control characters',
  additionalProperties: 'is not an allowed property',
};

interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: object;
  message: string;
}

/** Field errors from TypeBox issues: one per offending field, pointing at it from `root`. */
export function fieldErrorsOf(issues: Iterable<SchemaIssue>, root: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (issue.keyword === 'boolean') continue; // repeats an additionalProperties issue
    // TypeBox names missing properties in `requiredProperties`; Ajv in `missingProperty`, one per issue.
    const params = issue.params as { additionalProperties?: string[]; requiredProperties?: string[]; missingProperty?: string };
    const missing = params.requiredProperties ?? (params.missingProperty !== undefined ? [params.missingProperty] : []);
    if (issue.keyword === 'additionalProperties' && params.additionalProperties?.length) {
      for (const name of params.additionalProperties) errors.push({ path: `${root}${issue.instancePath}/${name}`, message: FRIENDLY['additionalProperties']! });
    } else if (issue.keyword === 'required' && missing.length) {
      for (const name of missing) errors.push({ path: `${root}${issue.instancePath}/${name}`, message: 'is required' });
    } else {
      errors.push({ path: `${root}${issue.instancePath}`, message: FRIENDLY[issue.keyword] ?? issue.message });
    }
  }
  return errors;
}

/** One sentence summarising field errors, for `detail`. */
export function summarise(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path} ${e.message}`).join('; ') || 'invalid input';
}

/**
 * A compiled check of a value against one of the core schemas, and of every string in it for
 * well-formed Unicode (no lone surrogates). Services run it on whatever the web layer hands them, so
 * a caller that skips HTTP validation (the CLI, a test, a future queue) cannot store what the API
 * would refuse.
 * @throws DataValidationError with one `errors` entry per offending field, paths from `root`
 */
export function schemaCheck<T>(schema: TSchema, root: string) {
  const validator = Compile(schema);
  return (value: unknown): T => {
    // Text that UTF-8 cannot carry would be stored altered; it is refused before anything else.
    const illFormed = illFormedTextErrors(value, root);
    if (illFormed.length > 0) throw new DataValidationError(summarise(illFormed), { errors: illFormed });
    if (validator.Check(value)) return value as T;
    const errors = fieldErrorsOf(validator.Errors(value), root);
    throw new DataValidationError(summarise(errors), { errors });
  };
}
