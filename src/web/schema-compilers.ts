import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { validatorCompiler } from './validator-compiler.js';

type Compiled = (input: unknown) => unknown;

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

  /** For `app.setValidatorCompiler`: `validatorCompiler` (TypeBox), on first use. */
  readonly validatorCompiler: FastifySchemaCompiler<TSchema> = (route) =>
    this.#onFirstCall(() => validatorCompiler(route) as Compiled) as ReturnType<FastifySchemaCompiler<TSchema>>;

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
