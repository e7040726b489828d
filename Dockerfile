# webex-bulk as an unattended job: a non-root user, a read-only root filesystem, the input and
# the run directories on volumes. Recipes (CronJob, Indexed Job, systemd): docs/operations.md.
#   docker build -t webex-bulk:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp -v "$PWD/input:/input:ro" -v webex-bulk-data:/data \
#       -e WEBEX_BULK_TOKEN_FILE=/run/secrets/webex-token webex-bulk:0.1.0 run /input/tenant.csv

# Pin this by digest in your registry (python:3.11-slim-bookworm@sha256:…) for a byte-identical
# base; Debian bookworm's slim image carries the time zone database that TZ and --deadline use.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtual environment from the hashed lock file -----------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# The lock first: its layer stays cached while only the code changes.
COPY requirements.lock deploy/install.sh ./
COPY pyproject.toml README.md LICENSE ./
COPY webex_bulk ./webex_bulk
RUN sh install.sh /opt/webex-bulk /src

# -- run: only the virtual environment, owned by root, run by an unprivileged user -------------
FROM ${PYTHON_IMAGE}
ARG UID=10001
RUN groupadd --system --gid "${UID}" webex-bulk \
    && useradd --system --uid "${UID}" --gid webex-bulk --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin webex-bulk \
    && mkdir -p /input /data \
    && chown webex-bulk:webex-bulk /data
COPY --from=build /opt/webex-bulk /opt/webex-bulk
# No bytecode written at run time (the root filesystem may be read-only; pip compiled it at
# install); log lines leave unbuffered.
ENV PATH=/opt/webex-bulk/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Run directories default to runs/ here, on the data volume. Not WEBEX_BULK_RUNS_ROOT: a variable
# would override the runs_root of a --config file (the per-org fan-out sets it there).
WORKDIR /data
VOLUME ["/input", "/data"]
USER ${UID}:${UID}
ENTRYPOINT ["webex-bulk"]
CMD ["--help"]
