# NATS for the compose stack: NATS_IMAGE is the official image on a host with a registry, or
# acefleet/nats-base:local (scripts/build-base-images.sh). Both have nats-server and wget in /usr/local/bin.
ARG NATS_IMAGE=nats:2.10-alpine
FROM ${NATS_IMAGE}
# The monitoring port (http_port in nats.conf) answers /healthz with 200 once the server, JetStream included, is up.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"]
ENTRYPOINT ["/usr/local/bin/nats-server"]
CMD ["-c", "/etc/nats/nats.conf"]
