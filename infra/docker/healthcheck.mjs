// Container HEALTHCHECK (the images have no curl): exits 0 when the service's /healthz answers 200.
// The port is HTTP_PORT, else the service's default port (infra/test/docker.test.ts keeps this map equal to the
// defaults of the services' config schemas).
const DEFAULT_PORTS = { gateway: 8080, orchestrator: 8081, 'workflow-runner': 8082, 'skill-worker': 8083, escalation: 8084 };

const port = Number(process.env.HTTP_PORT || DEFAULT_PORTS[process.env.STEWARD_SERVICE ?? ''] || 8080);
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
