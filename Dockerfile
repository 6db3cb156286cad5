# fairlead's container images, built from Debian bookworm packages only.
#
#   docker build -t fairlead .                          the sidecar image (the default target):
#                                                       fairlead alone, beside the app's container
#   docker build --target single -t fairlead-example .  the reference setup in one container: fairlead
#                                                       as PID 1 starts the example FastAPI app, serves
#                                                       its React build and drains before stopping it
#   docker build --target app -t fairlead-example-app . the example app alone, for the app container
#                                                       of the sidecar task (deploy/ecs/sidecar.json)
#
# Both fairlead images run as the unprivileged user `fairlead` and listen on 8080 (traffic) and
# 9901 (admin: /ready for the ALB, /metrics). Ports below 1024 need `--cap-add NET_BIND_SERVICE`
# and a config that binds them; behind an ALB there is no reason to. See deploy/README.md.
# Every apt-get install ends with apt-get clean: apt's package caches are 78 MB a layer.

ARG RUNTIME_PACKAGES="libuv1 libssl3 libyaml-cpp0.7 libspdlog1.10 ca-certificates"
ARG APP_PACKAGES="python3-fastapi python3-uvicorn python3-websockets python3-psycopg python3-psycopg-pool"

# --- fairlead, compiled ---------------------------------------------------------------------------
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config binutils \
      libuv1-dev node-llhttp libssl-dev libyaml-cpp-dev libspdlog-dev libexpected-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proxy proxy
# Symbols stay (a backtrace names functions); the debug sections go (they would triple the binary).
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAIRLEAD_TESTS=OFF \
 && cmake --build build --target fairlead \
 && objcopy --strip-debug build/proxy/fairlead /usr/local/bin/fairlead \
 && /usr/local/bin/fairlead --version

# --- the example's React frontend, built by Vite -------------------------------------------------
FROM debian:bookworm AS frontend
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/build-frontend scripts/
COPY examples/app/frontend examples/app/frontend
# Where the npm registry cannot be reached (a closed build network), the build committed beside the
# sources is used, after checking that it is theirs (scripts/build-frontend --verify).
RUN cd examples/app/frontend \
 && if npm ci --no-audit --no-fund --loglevel=error; then \
      npm run --silent build; \
    else \
      echo "frontend: npm ci failed (above); using the committed dist/" >&2; \
      cd /src && scripts/build-frontend --verify; \
    fi \
 && rm -rf node_modules

# --- the common base: Debian slim and the unprivileged user --------------------------------------
FROM debian:bookworm-slim AS base
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin fairlead

# --- the example FastAPI app alone --------------------------------------------------------------
FROM base AS app
ARG APP_PACKAGES
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $APP_PACKAGES \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY examples/app/app /srv/app/app
WORKDIR /srv/app
USER fairlead
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# 127.0.0.1, and no EXPOSE: in an ECS task (awsvpc) fairlead reaches the app over the task's shared
# loopback, and nothing outside the task can reach the app around fairlead.
ENTRYPOINT ["python3", "-m", "uvicorn", "app.main:app", "--no-proxy-headers"]
CMD ["--host", "127.0.0.1", "--port", "8000"]

# --- the single-container image: fairlead as PID 1 in front of the example app -------------------
FROM app AS single
ARG RUNTIME_PACKAGES
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $RUNTIME_PACKAGES \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/fairlead /usr/local/bin/fairlead
COPY --from=frontend /src/examples/app/frontend/dist /srv/www
COPY config/container.yaml /etc/fairlead/fairlead.yaml
RUN fairlead -c /etc/fairlead/fairlead.yaml --check
WORKDIR /srv
USER fairlead
EXPOSE 8080 9901
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s CMD ["fairlead", "healthcheck"]
ENTRYPOINT ["fairlead"]
CMD ["-c", "/etc/fairlead/fairlead.yaml"]

# --- the sidecar image: fairlead alone (the default target, so it is last) -----------------------
FROM base AS sidecar
ARG RUNTIME_PACKAGES
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $RUNTIME_PACKAGES \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/fairlead /usr/local/bin/fairlead
COPY config/sidecar.yaml /etc/fairlead/fairlead.yaml
RUN fairlead -c /etc/fairlead/fairlead.yaml --check
USER fairlead
EXPOSE 8080 9901
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s CMD ["fairlead", "healthcheck"]
ENTRYPOINT ["fairlead"]
CMD ["-c", "/etc/fairlead/fairlead.yaml"]
