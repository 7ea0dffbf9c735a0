# ff-board container image: multi-stage.
#   docker build -t ff-board --build-arg FF_BOARD_BUILD=$(git rev-parse HEAD:app) .
#   docker run -p 3000:3000 -e FF_BOARD_BACKEND=postgres://… -e FF_BOARD_SECRET=… \
#     -e FF_BOARD_USERS=/etc/ff-board/users.toml -v ./users.toml:/etc/ff-board/users.toml:ro ff-board
# Stage 1 builds exactly as `make build` does (cargo-leptos with no downloads:
# Tailwind and wasm-opt from npm, wasm-bindgen-cli at the Cargo.lock version);
# stage 2 runs the release binary on a slim image as a non-root user, the site
# files beside it, /healthz as its health check, SIGTERM to stop (the board
# closes live sockets with 1012 and lets requests finish, at most 20 s).
# Verified here: see README ("Container and Kubernetes").

FROM rust:1.95-bookworm AS build
ARG CARGO_LEPTOS_VERSION=0.3.10
ARG WASM_BINDGEN_VERSION=0.2.130
# The app's git tree: answers carry it so a tab of an older build reloads.
ARG FF_BOARD_BUILD=
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install --locked cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --no-default-features --features no_downloads \
 && cargo install --locked wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV PATH=/src/node_modules/.bin:$PATH FF_BOARD_BUILD=${FF_BOARD_BUILD}
RUN cargo leptos build --release --precompress \
 && mkdir -p /out \
 && cp target/server-release/ff-board /out/ff-board \
 && cp target/server-release/hash.txt /out/hash.txt \
 && cp -r target/site /out/site

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ff-board
WORKDIR /app
COPY --from=build /out/ /app/
ENV LEPTOS_OUTPUT_NAME=ff-board \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_HASH_FILES=true \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    FF_BOARD_ADDR=0.0.0.0:3000
USER 10001
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD curl -fs http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["/app/ff-board"]
