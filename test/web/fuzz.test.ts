import fc from 'fast-check';
import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyListSchema, ApiKeySchema, CreatedApiKeySchema } from '../../src/core/models/api-key.js';
import { ImageDetailSchema, ImageListSchema } from '../../src/core/models/image.js';
import { ProblemSchema } from '../../src/core/models/problem.js';
import { MeSchema, UsageReportSchema } from '../../src/core/models/usage.js';
import { LocalImageGenerator } from '../../src/service/generation/index.js';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based fuzzing driven by the app's own OpenAPI document: every documented operation gets
 * valid and hostile requests, and every answer must be a documented, well-formed one. Reproduce a
 * failure with FUZZ_SEED=<seed printed below>; FUZZ_RUNS scales the run.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261125);
const RUNS_PER_OPERATION = Number(process.env['FUZZ_RUNS'] ?? 1600);
const ODD_RUNS = Math.ceil(RUNS_PER_OPERATION / 2);
const MIN_REQUESTS = Number(process.env['FUZZ_MIN_REQUESTS'] ?? 10_000);

const USER = { username: 'fuzzer', password: 'fuzzing password 1' };

const ImageDetailCheck = Compile(ImageDetailSchema);
const ImageListCheck = Compile({ ImageDetail: ImageDetailSchema }, ImageListSchema);
const UsageReportCheck = Compile(UsageReportSchema);
const MeCheck = Compile(MeSchema);
const ProblemCheck = Compile(ProblemSchema);
const ApiKeyListCheck = Compile({ ApiKey: ApiKeySchema }, ApiKeyListSchema);
const CreatedApiKeyCheck = Compile(CreatedApiKeySchema);
/** Response schemas by the component name the OpenAPI document refers to them with. */
const RESPONSE_CHECKS: Record<string, (value: unknown) => boolean> = {
  ImageDetail: (v) => ImageDetailCheck.Check(v),
  ImageList: (v) => ImageListCheck.Check(v),
  Problem: (v) => ProblemCheck.Check(v),
  UsageReport: (v) => UsageReportCheck.Check(v),
  Me: (v) => MeCheck.Check(v),
  ApiKeyList: (v) => ApiKeyListCheck.Check(v),
  CreatedApiKey: (v) => CreatedApiKeyCheck.Check(v),
};

/**
 * Body properties whose valid values depend on the server's models and their option rules, not on
 * the schema alone (a schema-valid `model` is refused unless the server allows it). A valid request
 * leaves them out half the time, so the create path is really reached.
 */
const CONFIG_DEPENDENT = new Set(['model', 'size', 'quality', 'background', 'output_format', 'output_compression', 'moderation', 'style']);

function withoutConfigDependent(schema: JsonSchema): JsonSchema {
  return { ...schema, properties: Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([key]) => !CONFIG_DEPENDENT.has(key))) };
}

interface JsonSchema {
  type?: string;
  $ref?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
  secured: boolean;
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

const SQL = ["' OR '1'='1", "'; DROP TABLE image; --", '1 UNION SELECT password_hash FROM user', '" OR ""="', '%27%20OR%201=1', '\\', '`', ':guid'];
const TRAVERSAL = ['../../etc/passwd', '..\\..\\windows\\win.ini', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '....//....//', '/etc/passwd\u0000.png', '..%00/'];
const CONTROL = ['\u0000', '\u0001\u0002', '\r\n', '\t', '\u001b[31m', '\u007f', '\u2028\u2029', '\ufeff', '\ud800', '\udfff\ud800'];
const HUGE = ['a'.repeat(4001), 'x'.repeat(70 * 1024), '😀'.repeat(2001), ' '.repeat(5000)];
const ABSURD_NUMBERS = ['-1', '0', '201', '1e309', '-0', 'NaN', 'Infinity', '99999999999999999999999', '0x10', '1.5', ' 7', '', '[]', '{}', 'null', 'true'];

/** Percent-encodes the UTF-8 bytes; unlike encodeURIComponent it accepts lone surrogates (as U+FFFD). */
function encodeSegment(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom(...SQL, ...TRAVERSAL, ...CONTROL, ...HUGE, ...ABSURD_NUMBERS, '', ' '),
);

/** Header values must be printable ASCII on the wire; keep the hostile content that survives. */
const printable = hostileString.map((s) => s.replace(/[^\u0020-\u007e]/g, '').slice(0, 8000));

const anyJson = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 3 }),
  hostileString,
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}),
);

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid({ version: 4 });
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 60, 60);
  // Most schemas here refuse blank or control-character strings: generate printable, non-blank text.
  return fc
    .string({ unit: 'grapheme', minLength: Math.max(minLength, 1), maxLength: Math.max(maxLength, 1) })
    .filter((s) => /\S/.test(s) && !/[\u0000-\u001f\u007f]/.test(s) && s.length <= (schema.maxLength ?? Infinity));
}

/** Values that satisfy the schema (as far as these shapes go). */
function validValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'array':
      return fc.array(validValue(schema.items ?? {}), { maxLength: Math.min(schema.maxItems ?? 5, 5) });
    case 'object': {
      const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, validValue(v)]));
      return fc.record(properties, { requiredKeys: schema.required ?? [] });
    }
    default:
      return anyJson;
  }
}

/** A value that is valid or, just as often, wrong in some way: type, size, content, shape. */
function fuzzedValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.type === 'object') {
    const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, fuzzedValue(v)]));
    return fc.oneof(
      validValue(schema),
      fc.record(properties, { requiredKeys: [] }),
      fc.tuple(validValue(schema), fc.dictionary(hostileString, anyJson, { maxKeys: 3 })).map(([base, extra]) => ({ ...extra, ...(base as object) })),
      anyJson,
    );
  }
  if (schema.type === 'array') {
    return fc.oneof(validValue(schema), fc.array(fuzzedValue(schema.items ?? {}), { maxLength: 30 }), anyJson);
  }
  return fc.oneof(validValue(schema), anyJson);
}

function queryValue(schema: JsonSchema): fc.Arbitrary<string> {
  return fc.oneof(
    validValue(schema).map(String),
    hostileString,
    fc.constantFrom(...ABSURD_NUMBERS),
  );
}

const authorizationHeader = fc.oneof(
  fc.constant(basicHeader(USER.username, USER.password)),
  fc.constant(basicHeader(USER.username, USER.password)),
  fc.constant(undefined),
  fc.tuple(hostileString, hostileString).map(([u, p]) => basicHeader(u, p)),
  fc.constantFrom(
    'Basic',
    'Basic ',
    'Basic !!!!',
    'Basic ====',
    'Basic Zm9v',
    `Basic ${Buffer.from('no-colon').toString('base64')}`,
    `Basic ${Buffer.from(':empty-user').toString('base64')}`,
    'Basic Zm9vOmJhcg=',
    'Bearer sk-not-a-real-key',
    `Bearer pxy_${'A'.repeat(43)}`,
    'Bearer pxy_short',
    'Digest username="x"',
    `Basic ${'A'.repeat(5000)}`,
    'basic   Zm9vOmJhcg==   ',
  ),
  printable.map((s) => `Basic ${s}`),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/problem+json',
  'application/json; charset=latin1',
  'garbage',
  '',
);

const rawBody = fc.oneof(
  fc.constantFrom('{', '{"prompt":', '[', '"', 'null', '', '{"prompt": "a"} trailing', '\u0000', '{"__proto__": {"x": 1}, "prompt": "p"}', '{"constructor": {"prototype": {}}}'),
  fc.constant(`{"prompt":"${'y'.repeat(70 * 1024)}"}`),
  hostileString,
);

const extraHeaders = fc.record(
  {
    'x-request-id': printable,
    range: fc.constantFrom('bytes=0-0', 'bytes=-5', 'bytes=999999999-', 'bytes=5-1', 'bytes=0-1,2-3', 'items=0-1', 'bytes=', 'bytes=abc'),
    'if-none-match': fc.constantFrom('*', '"abc"', 'W/"x"', '', 'garbage'),
    'if-modified-since': fc.constantFrom('Thu, 01 Jan 1970 00:00:00 GMT', 'not a date', '', 'Fri, 31 Dec 9999 23:59:59 GMT'),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'image/png', 'text/csv', 'text/csv;q=0.5, application/json'),
  },
  { requiredKeys: [] },
);

function operationsOf(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = (op['requestBody'] as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (op['parameters'] as Parameter[] | undefined) ?? [],
        ...(body && { body }),
        secured: Array.isArray(op['security']) && op['security'].length > 0,
        responses: op['responses'] as Operation['responses'],
      });
    }
  }
  return operations;
}

/**
 * Requests for one operation. Some are fully valid (the real user, a known guid, a body that
 * satisfies the schema) so the success paths are exercised; the rest mix valid and hostile parts.
 * Valid creates are rarer: each one fsyncs a file.
 */
function requestFor(operation: Operation, knownGuids: () => string[]): fc.Arbitrary<InjectOptions> {
  return fc.oneof(
    { weight: operation.body ? 1 : 2, arbitrary: requestOf(operation, knownGuids, true) },
    { weight: 6, arbitrary: requestOf(operation, knownGuids, false) },
  );
}

/** True when the URL's path has the shape of the operation's template (an empty segment does not). */
function pathMatches(template: string, url: string): boolean {
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
  return pattern.test(url.split('?')[0] ?? '');
}

function requestOf(operation: Operation, knownGuids: () => string[], valid: boolean): fc.Arbitrary<InjectOptions> {
  const pathParams = operation.parameters.filter((p) => p.in === 'path');
  const queryParams = operation.parameters.filter((p) => p.in === 'query');
  const knownGuid = fc.nat().map((i) => { const g = knownGuids(); return g[i % Math.max(g.length, 1)] ?? '00000000-0000-4000-8000-000000000000'; });
  const pathValues = fc.tuple(
    ...pathParams.map((p) =>
      valid
        ? knownGuid
        : fc.oneof(knownGuid, validValue(p.schema).map(String), fc.uuid().map((u) => u.toUpperCase()), hostileString),
    ),
  );
  const query = fc.tuple(
    ...queryParams.map((p) => fc.option(valid ? validValue(p.schema).map(String) : queryValue(p.schema), { nil: undefined, freq: 2 })),
    valid ? fc.constant({}) : fc.dictionary(hostileString.filter((s) => s.length < 30), hostileString, { maxKeys: 2 }),
    valid ? fc.constant(false) : fc.boolean(),
  );
  const body = operation.body
    ? valid
      ? fc.oneof(validValue(withoutConfigDependent(operation.body)), validValue(operation.body)).map((v) => ({ json: v }))
      : fc.oneof(
          { weight: 4, arbitrary: fuzzedValue(operation.body).map((v) => ({ json: v })) },
          { weight: 1, arbitrary: rawBody.map((raw) => ({ raw })) },
          { weight: 1, arbitrary: fc.constant({}) },
        )
    : valid
      ? fc.constant({})
      : fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: rawBody.map((raw) => ({ raw })) });
  const method = valid
    ? fc.constant(operation.method)
    : fc.oneof(
        { weight: 12, arbitrary: fc.constant(operation.method) },
        { weight: 1, arbitrary: fc.constantFrom('HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST', 'GET') },
      );
  const authorization = valid ? fc.constant(basicHeader(USER.username, USER.password)) : authorizationHeader;
  const type = valid ? fc.constant('application/json') : contentType;
  const headers = valid ? fc.constant({}) : extraHeaders;

  return fc
    .record({ pathValues, query, body, method, authorization, contentType: type, extraHeaders: headers })
    .map(({ pathValues: values, query: [...rest], body: payload, method: m, authorization, contentType: type, extraHeaders: headers }) => {
      let url = operation.path;
      pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodeSegment(String(values[i])))));
      const repeatLimit = rest.pop() as boolean;
      const extra = rest.pop() as Record<string, string>;
      const search = new URLSearchParams();
      queryParams.forEach((p, i) => {
        const value = rest[i] as string | undefined;
        if (value !== undefined) search.append(p.name, value);
        if (value !== undefined && repeatLimit) search.append(p.name, value);
      });
      for (const [k, v] of Object.entries(extra)) search.append(k, v);
      const qs = search.toString();
      const requestHeaders: Record<string, string> = { ...headers };
      if (authorization !== undefined) requestHeaders['authorization'] = authorization;
      const options: InjectOptions = { method: m as InjectOptions['method'], url: qs ? `${url}?${qs}` : url, headers: requestHeaders };
      if ('json' in payload) {
        options.payload = JSON.stringify(payload.json) ?? 'undefined';
        requestHeaders['content-type'] = type || 'application/json';
      } else if ('raw' in payload) {
        options.payload = String(payload.raw);
        if (type) requestHeaders['content-type'] = type;
      }
      return options;
    });
}

const oddRequest: fc.Arbitrary<InjectOptions> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'SEARCH', 'PROPFIND', 'MKCOL'),
    path: fc.oneof(
      fc.constantFrom(
        '/image/../etc/passwd', '//image', '/image//', '/IMAGE', '/image/%2e%2e/%2e%2e/etc/passwd', '/image/%00', '/image/%',
        '/image/%E0%A4%A', '/image/a/b/c/d', '/image/00000000-0000-4000-8000-000000000000/content/extra', '/docs/../openapi.json',
        '/docs/static/../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json', '/health/', '/ready?x=1', '/openapi.json/',
        `/${'a'.repeat(8000)}`, '/image?limit=1&limit=2', '/image?after=%00', '/image?tag=%ZZ', '/image;jsessionid=1', '/.env', '/data/pixyproxy.db',
      ),
      fc.array(hostileString.map(encodeSegment), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
      hostileString.map((s) => `/image/${encodeSegment(s)}/content`),
    ),
    authorization: authorizationHeader,
  })
  .map(({ method, path, authorization }) => ({
    method: method as InjectOptions['method'],
    url: path,
    headers: authorization === undefined ? {} : { authorization },
  }));

describe('fuzzing every operation of /openapi.json', () => {
  let t: TestApp;
  let operations: Operation[];
  let sent = 0;
  const statuses = new Map<number, number>();
  const guids: string[] = [];

  beforeAll(async () => {
    // A tiny image keeps the many valid creates cheap; limits are the app's real code paths, set high.
    t = await createTestApp({ generator: new LocalImageGenerator({ width: 8, height: 8 }) });
    await t.addUser(USER.username, USER.password);
    const doc = await t.app.inject({ url: '/openapi.json' });
    operations = operationsOf(doc.json());
    const created = await t.app.inject({
      method: 'POST',
      url: '/image',
      headers: { authorization: basicHeader(USER.username, USER.password) },
      payload: { prompt: 'seed image', tags: ['seed'] },
    });
    guids.push(created.json().guid);
    console.log(`fuzz seed ${SEED} (reproduce with FUZZ_SEED=${SEED}); ${RUNS_PER_OPERATION} runs per operation`);
  });

  afterAll(async () => {
    console.log(`fuzz: ${sent} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    await t?.close();
  });

  /** Every string the client sent (JSON keys and values, URL): a problem may quote them back. */
  function sentStrings(request: InjectOptions): string[] {
    const found = [decodeURIComponentSafe(String(request.url))];
    const visit = (value: unknown): void => {
      if (typeof value === 'string') found.push(value);
      else if (Array.isArray(value)) value.forEach(visit);
      else if (value !== null && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          found.push(key);
          visit(inner);
        }
      }
    };
    try {
      visit(typeof request.payload === 'string' ? JSON.parse(request.payload) : request.payload);
    } catch {
      found.push(String(request.payload));
    }
    return found.filter((text) => text.length >= 3).sort((a, b) => b.length - a.length);
  }

  function decodeURIComponentSafe(text: string): string {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  }

  /** The detail with the client's own input blanked: quoting a field name back is not a leak. */
  function withoutEchoedInput(detail: string, request: InjectOptions): string {
    return sentStrings(request).reduce((text, sent) => text.split(sent).join('<input>'), detail);
  }

  function checkResponse(request: InjectOptions, response: InjectResponse, operation?: Operation): void {
    const label = `${request.method} ${String(request.url).slice(0, 200)} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
    sent += 1;
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    expect(response.statusCode, label).toBeLessThan(500);
    expect(response.headers['x-content-type-options'], label).toBe('nosniff');
    expect(response.headers['content-security-policy'], label).toBeDefined();
    if (request.method === 'HEAD' || response.statusCode === 304) return;
    if (response.statusCode >= 400 && String(request.url).startsWith('/v1/')) {
      // The OpenAI-compatible endpoints answer OpenAI's error body instead (docs/API.md, "Errors under /v1").
      expect(response.headers['content-type'], label).toMatch(/^application\/json/);
      const { error } = response.json() as { error: Record<string, unknown> };
      expect(typeof error.message === 'string' && typeof error.type === 'string', label).toBe(true);
      expect([error.param, error.code].every((value) => value === null || typeof value === 'string'), label).toBe(true);
      expect(withoutEchoedInput(String(error.message), request), label).not.toMatch(/\n\s+at |SELECT |INSERT |\/tmp\//);
      return;
    }
    if (response.statusCode >= 400) {
      expect(response.headers['content-type'], label).toMatch(/^application\/problem\+json/);
      const body = response.json();
      expect(ProblemCheck.Check(body), `${label}\n${JSON.stringify([...ProblemCheck.Errors(body)])}`).toBe(true);
      expect(body.status, label).toBe(response.statusCode);
      expect(body.request_id, label).toBe(response.headers['x-request-id']);
      expect(withoutEchoedInput(body.detail, request), label).not.toMatch(/\n\s+at |SELECT |INSERT |\/tmp\//);
      return;
    }
    const documented = operation?.responses[String(response.statusCode)];
    if (operation !== undefined && request.method === operation.method) {
      expect(documented, `${label}: status is not in the document`).toBeDefined();
    }
    const schema = documented?.content?.['application/json']?.schema;
    const name = schema?.$ref?.split('/').pop();
    if (String(response.headers['content-type']).startsWith('text/csv')) {
      expect(documented?.content?.['text/csv'], `${label}: CSV is not in the document`).toBeDefined();
      expect(response.body.split('\r\n')[0], label).toMatch(/^group,images,/);
    } else if (name !== undefined && RESPONSE_CHECKS[name]) {
      const body = response.json();
      expect(RESPONSE_CHECKS[name](body), `${label}: not a valid ${name}`).toBe(true);
      if (response.statusCode === 201 && name === 'ImageDetail') guids.push((body as { guid: string }).guid);
    } else if (documented?.content?.['image/png']) {
      expect(response.headers['content-type'], label).toBe('image/png');
    }
  }

  it('answers every generated request with a documented status and a well-formed body, never 5xx', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(6);
    for (const [index, operation] of operations.entries()) {
      const started = performance.now();
      await fc.assert(
        fc.asyncProperty(requestFor(operation, () => guids), async (request) => {
          const response = await t.app.inject(request);
          // An empty path parameter routes elsewhere (/image/ is the listing): check it generically.
          checkResponse(request, response, pathMatches(operation.path, String(request.url)) ? operation : undefined);
        }),
        { seed: SEED + index, numRuns: RUNS_PER_OPERATION, endOnFailure: true },
      );
      console.log(`fuzz: ${operation.method} ${operation.path} done in ${Math.round(performance.now() - started)} ms`);
    }
    await fc.assert(
      fc.asyncProperty(oddRequest, async (request) => {
        checkResponse(request, await t.app.inject(request));
      }),
      { seed: SEED + operations.length, numRuns: ODD_RUNS, endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
    // The valid-user share of requests must really reach the create path: about one 201 per ten runs
    // per operation (174 at 1,600, 16 at 200), so a floor of one per 32 scales with FUZZ_RUNS.
    expect(statuses.get(201) ?? 0).toBeGreaterThan(Math.floor(RUNS_PER_OPERATION / 32));
  }, 420_000); // every operation of the document (15 by now) x RUNS_PER_OPERATION: ~150 s alone on 2 busy cores
});
