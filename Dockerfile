# syncwatch: ingest and replay in one small image.
#
#   docker build -t syncwatch .
#   docker run syncwatch --brokers kafka:9092
#   docker run --no-healthcheck --entrypoint /replay -v "$PWD/logs:/data:ro" syncwatch /data
#
# Needs a registry for the golang base image. Where none is reachable,
# build the static binaries on the host and pack them with
# Dockerfile.scratch (README.md, "Container image").
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# static binaries: the final stage has no libc
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ingest ./cmd/ingest \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/replay ./cmd/replay

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/ingest /out/replay /
# --- runtime: identical in Dockerfile and Dockerfile.scratch (a test checks) ---
# nobody:nogroup; numeric, since scratch has no /etc/passwd
USER 65534:65534
# /healthz must be reachable from outside the container (and by HEALTHCHECK)
ENV SYNCWATCH_METRICS_ADDR=0.0.0.0:9108
EXPOSE 9108
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/ingest", "healthcheck"]
ENTRYPOINT ["/ingest"]
