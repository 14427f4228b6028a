import type { FieldError } from '../core/errors.js';
import { TEXT_PATTERNS } from '../core/models/image.js';

const NOT_BLANK_MESSAGE = 'must not be blank or contain control characters';
const NOT_ALLOWED_MESSAGE = 'is not an allowed property';

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
      for (const name of params.additionalProperties) errors.push({ path: `${root}${issue.instancePath}/${name}`, message: NOT_ALLOWED_MESSAGE });
    } else if (issue.keyword === 'required' && missing.length) {
      for (const name of missing) errors.push({ path: `${root}${issue.instancePath}/${name}`, message: 'is required' });
    } else {
      errors.push({ path: `${root}${issue.instancePath}`, message: messageOf(issue) });
    }
  }
  return errors;
}

/**
 * A pattern refusal in words: the text rule for the text patterns, otherwise the pattern itself
 * (a `size` of "big" must match `^(auto|[1-9]...)$`, not "must not be blank").
 */
function messageOf(issue: SchemaIssue): string {
  if (issue.keyword !== 'pattern') return issue.message;
  const { pattern } = issue.params as { pattern?: unknown };
  if (typeof pattern !== 'string' || TEXT_PATTERNS.has(pattern)) return NOT_BLANK_MESSAGE;
  return `must match the pattern ${pattern}`;
}

/** One sentence summarising field errors, for `detail`. */
export function summarise(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path} ${e.message}`).join('; ') || 'invalid input';
}
