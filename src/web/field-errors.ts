import type { FieldError } from '../core/errors.js';

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

/**
 * Field errors from schema issues (TypeBox's or Ajv's, as Fastify reports them): one per offending
 * field, pointing at it from `root` (`/body`, `/querystring`, `/params`), as RFC 6901 JSON pointers.
 */
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
