/**
 * Where the instance is in its life. `draining` turns true when shutdown begins: the readiness
 * probe fails from that moment, so a load balancer stops sending traffic while in-flight
 * requests and deliveries finish.
 */
export class Lifecycle {
  draining = false;
}
