// The OpenTelemetry SDK and exporter, imported by tracing.ts only when tracing is on. A module of
// the service's own: in the bundle, a dynamically imported chunk of a CommonJS package (the SDK)
// would offer only its default export, while this module's static imports interoperate.
export { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
export { resourceFromAttributes } from '@opentelemetry/resources';
export { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
