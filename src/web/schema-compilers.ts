import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import type { TSchema } from 'typebox';
import { validatorCompiler } from './validator-compiler.js';

type Compiled = (input: unknown) => unknown;
type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * The app's schema compilers, which compile each route's validator and response serialiser on the
 * route's first use instead of when the app is built.
 *
 * Why: Fastify compiles about 90 of them at build time (fast-json-stringify, which also checks each
 * schema against the JSON Schema meta-schema with Ajv, and TypeBox's code generation): the largest
 * part of start-up CPU, and of every app the tests build, for routes a process may never answer.
 * The output is the same: the compilers are Fastify's default serialiser factory and
 * `validatorCompiler`, only called later. `compileAll()` compiles what is still pending, so that a
 * schema error can be found without answering every route (test/web/openapi.test.ts does).
 */
export class LazySchemaCompilers {
  readonly #pending = new Set<() => void>();

  /** For `Fastify({ schemaController: { compilersFactory: { buildSerializer } } })`: fast-json-stringify, on first use. */
  readonly buildSerializer: SerializerSelector.SerializerFactory = (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas, options);
    return (route) => this.#onFirstCall(() => compile(route)) as SerializerSelector.Serializer;
  };

  /** `validatorCompiler` (TypeBox), on first use. */
  readonly validatorCompiler: FastifySchemaCompiler<TSchema> = (route) =>
    this.#onFirstCall(() => validatorCompiler(route) as Compiled) as ReturnType<FastifySchemaCompiler<TSchema>>;

  /**
   * For `Fastify({ schemaController: { compilersFactory: { buildValidator } } })`: `validatorCompiler`
   * in every encapsulated context. Why a factory and not `app.setValidatorCompiler`: a plugin that
   * adds a schema of its own (`instance.addSchema`, as the /v1 routes do) gets a new schema
   * controller, which builds its validator from the factory, so it fell back to Fastify's Ajv with
   * its defaults: unknown properties dropped and `"prompt": 123` coerced to the text "123".
   */
  // Fastify types this factory's compiler as Ajv's; it calls any schema compiler the same way.
  readonly buildValidator = ((): FastifySchemaCompiler<TSchema> => this.validatorCompiler) as unknown as NonNullable<CompilersFactory['buildValidator']>;

  /**
   * Compiles every validator and serialiser not compiled yet and returns how many it compiled.
   * @throws whatever fast-json-stringify or TypeBox throws for an invalid schema
   */
  compileAll(): number {
    const pending = [...this.#pending];
    for (const compile of pending) compile();
    return pending.length;
  }

  #onFirstCall(compile: () => Compiled): Compiled {
    let compiled: Compiled | undefined;
    const ensure = (): Compiled => {
      if (compiled === undefined) {
        compiled = compile();
        this.#pending.delete(ensure);
      }
      return compiled;
    };
    this.#pending.add(ensure);
    return (input) => ensure()(input);
  }
}
