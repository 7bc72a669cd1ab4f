import { TRPCError } from '@trpc/server';
import { setTraceParentSource } from '@lead/db';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Span } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Env } from '../env.js';
import { operationLabel } from './metrics.js';

/**
 * OpenTelemetry traces, on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only endpoint) is
 * set; the exporter reads the other standard `OTEL_*` variables itself. Spans carry operations,
 * statuses, SQL and Redis command names and event ids only: never URLs, query strings, SQL text
 * (the ORM inlines values into it), parameters, headers or bodies.
 */
const tracer = () => trace.getTracer('lead-service');
let provider: NodeTracerProvider | undefined;

export type TracingEnv = Pick<
  Env,
  'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_SERVICE_NAME' | 'OTEL_SDK_DISABLED'
>;

export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/**
 * Starts exporting spans, once per process; returns whether tracing is on. The SDK and its
 * exporter are loaded only then: a service without a collector neither waits for them at
 * start-up (about 0.1 s) nor keeps them in memory.
 */
export async function startTracing(env: TracingEnv): Promise<boolean> {
  if (provider) return true;
  if (env.OTEL_SDK_DISABLED || !(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) return false;
  const { OTLPTraceExporter, resourceFromAttributes, BatchSpanProcessor, NodeTracerProvider } = await import('./tracing-sdk.js');
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // AsyncLocalStorage context and W3C trace context propagation.
  provider.register();
  instrumentPg();
  instrumentRedis();
  // An outbox row remembers the trace of the request that wrote it.
  setTraceParentSource(currentTraceParent);
  return true;
}

/** Sends the spans still buffered; bounded, so that shutdown never waits on a collector. */
export async function stopTracing(timeoutMs = 2_000): Promise<void> {
  if (!provider) return;
  await Promise.race([provider.shutdown(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]).catch(() => {});
}

/** The active trace as a W3C `traceparent` value, or null outside any trace. */
export function currentTraceParent(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

function fail(span: Span, error: unknown): void {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  // The error's type and code only: messages may quote a value.
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', typeof code === 'string' ? code : typeof name === 'string' ? name : 'error');
}

/** A client span as a child of the active span; none outside a trace (e.g. the dispatcher's idle polls). */
function childSpan(name: string, attributes: Record<string, string>): Span | undefined {
  if (!trace.getSpan(context.active())) return undefined;
  return tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes });
}

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

const operationOf = (text: string | undefined) => /^\s*([a-z]+)/i.exec(text ?? '')?.[1]?.toLowerCase() ?? 'query';

/**
 * A span per statement on every `pg` client (the ORM's pool, the lead paths, the readiness check).
 * Statements that `packages/db` sends ahead of another in the same write (its `Pipelined` query:
 * `begin`, a transaction's `send`s, a batch's reads) get a span each too, all as long as the
 * round trip they share.
 */
function instrumentPg(): void {
  const proto = pg.Client.prototype as unknown as { query: Query };
  const query = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string; ahead?: ReadonlyArray<{ text: string }>; callback?: unknown } | undefined;
    const text = typeof config === 'string' ? config : config?.text;
    const attributes = (operation: string) => ({
      'db.system': 'postgresql',
      'db.operation.name': operation,
      'db.namespace': this.database ?? '',
    });
    const operation = operationOf(text);
    const span = childSpan(`pg ${operation}`, attributes(operation));
    if (!span) return query.apply(this, args);
    const spans = [
      ...(typeof config === 'object' && config.ahead ? config.ahead : []).map((s) =>
        childSpan(`pg ${operationOf(s.text)}`, attributes(operationOf(s.text)))!,
      ),
      span,
    ];
    const end = (error: unknown) => {
      for (const s of spans) {
        if (error) fail(s, error);
        s.end();
      }
    };
    // A query object (`client.query(new Query(…))`) answers through its own callback.
    if (typeof config === 'object' && typeof config.callback === 'function') {
      const callback = config.callback as (...a: unknown[]) => unknown;
      config.callback = (error: unknown, ...rest: unknown[]) => {
        end(error);
        return callback(error, ...rest);
      };
      return query.apply(this, args);
    }
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
        end(error);
        return (callback as (...a: unknown[]) => unknown)(error, ...rest);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args);
    if (result instanceof Promise) result.then(() => end(undefined), end);
    else end(undefined);
    return result;
  };
}

/** A span per Redis command (the rate limits), named by the command alone: keys hold client addresses. */
function instrumentRedis(): void {
  type Send = (this: Redis, command: { name: string; promise: Promise<unknown> }, ...rest: unknown[]) => unknown;
  const proto = Redis.prototype as unknown as { sendCommand: Send };
  const send = proto.sendCommand;
  proto.sendCommand = function (this: Redis, command, ...rest) {
    const span = childSpan(`redis ${command.name}`, { 'db.system': 'redis', 'db.operation.name': command.name });
    if (span) {
      command.promise.then(
        () => span.end(),
        (error: unknown) => {
          fail(span, error);
          span.end();
        },
      );
    }
    return send.call(this, command, ...rest);
  };
}

const requestSpans = new WeakMap<FastifyRequest, { span: Span; context: ReturnType<typeof context.active> }>();

/**
 * A server span per request, named by its operation (`operationLabel`), continuing a caller's
 * `traceparent`. The request runs in the span's context from its first hook, and again from
 * `preHandler`, since the body is read in the socket's context rather than the request's.
 */
export function traceRequests(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const operation = operationLabel(req);
    const span = tracer().startSpan(
      `${req.method} ${operation}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'lead.operation': operation } },
      parent,
    );
    const active = trace.setSpan(parent, span);
    requestSpans.set(req, { span, context: active });
    context.with(active, done);
  });
  app.addHook('preHandler', (req, _reply, done) => {
    const traced = requestSpans.get(req);
    if (traced) context.with(traced.context, done);
    else done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const traced = requestSpans.get(req);
    if (traced) {
      traced.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
      traced.span.end();
    }
    done();
  });
}

/**
 * A span per tRPC procedure (several in a batch), under the request's span. A call fails either
 * as a failed result or as an error thrown by the procedure's policies (refused, or mapped).
 */
export async function traceProcedure<R extends { ok: boolean; error?: { code: string } }>(
  path: string,
  next: () => Promise<R>,
): Promise<R> {
  if (!provider) return next();
  return tracer().startActiveSpan(`procedure ${path}`, { attributes: { 'rpc.system': 'trpc', 'rpc.method': path } }, async (span) => {
    const failed = (code: string) => {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('lead.error_code', code);
    };
    try {
      const result = await next();
      if (!result.ok) failed(result.error?.code ?? 'unknown');
      return result;
    } catch (error) {
      failed(error instanceof TRPCError ? error.code : 'INTERNAL_SERVER_ERROR');
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * One event's delivery, as a span of its own linked to the request that wrote the event (its
 * stored `traceparent`); the POST carries the delivery's `traceparent` to the receiver.
 */
export async function traceDelivery<T>(
  event: { eventId: string; eventType: string; attempts: number; traceParent?: string | null },
  work: () => Promise<T>,
): Promise<T> {
  if (!provider) return work();
  const writer = event.traceParent
    ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: event.traceParent }))
    : undefined;
  const links: Link[] = writer ? [{ context: writer }] : [];
  return tracer().startActiveSpan(
    'outbox deliver',
    {
      kind: SpanKind.PRODUCER,
      links,
      attributes: { 'lead.event_id': event.eventId, 'lead.event_type': event.eventType, 'lead.delivery_attempt': event.attempts },
    },
    ROOT_CONTEXT,
    async (span) => {
      try {
        return await work();
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Headers that carry the active trace to the next service (empty outside a trace). */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
