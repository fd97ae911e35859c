/** The generated `grpc.health.v1` code, re-exported under the names the gateway uses. */
export {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthClient,
  type HealthServer,
  HealthService,
} from "@secrets/proto/grpc-health";
