# Rescind worker image: build stage with the -dev packages, slim runtime stage with only the
# libraries the binaries load. Package lists mirror scripts/deps.sh (checked by a test).
FROM debian:bookworm AS build
ARG BUILD_PACKAGES="g++ cmake ninja-build pkg-config ccache libboost1.81-dev libhiredis-dev \
libsimdjson-dev prometheus-cpp-dev libssl-dev libcli11-dev"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $BUILD_PACKAGES \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build --target rescind-worker rescindctl \
 && strip /build/worker/rescind-worker /build/ctl/rescindctl

FROM debian:bookworm-slim
ARG RUNTIME_PACKAGES="libhiredis0.14 libsimdjson14 libprometheus-cpp-core1.0 \
libssl3 ca-certificates"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $RUNTIME_PACKAGES \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home rescind
# Not the sandbox: it answers every refund with success, and a production image that holds
# it is one flag away from "refunding" against it (run it from a build tree or its own image).
COPY --from=build /build/worker/rescind-worker /build/ctl/rescindctl /usr/local/bin/
USER rescind
# The worker's default is loopback (127.0.0.1:9464); this image opens it because Prometheus
# scrapes from outside the container, and inside one 0.0.0.0 is the pod's or the container
# network's interfaces only. The endpoint has no authentication and caps itself at 64
# sessions: publish the port to the scraper alone (a NetworkPolicy, no host port, no public
# Service), or bind the pod IP instead (docs/runbook.md, "Metrics endpoint").
ENV RESCIND_METRICS_LISTEN=0.0.0.0:9464
EXPOSE 9464
# /healthz answers while the process serves (/readyz, for load balancers and Kubernetes,
# also fails while Redis is unreachable or the worker drains); bash's /dev/tcp avoids curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464 && printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 && grep -q "200 OK" <&3'
ENTRYPOINT ["rescind-worker"]
