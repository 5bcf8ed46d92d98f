# The gRPC app: one image for both services. The default command runs the gRPC server; the
# client Deployment overrides it with `python client.py`. Build context: the repository root.

# The official python:3.11-slim image. The buildspec passes its ECR Public mirror
# (public.ecr.aws/docker/library/python:3.11-slim) to avoid Docker Hub's anonymous pull limits.
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: generate the stubs from proto/ with grpcio-tools, which the runtime image does not need.
FROM ${BASE_IMAGE} AS stubs
WORKDIR /src
COPY app/requirements.txt app/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore -r app/requirements.txt
COPY proto/ proto/
COPY app/gen_protos.py app/gen_protos.py
RUN python app/gen_protos.py

# Stage 2: the runtime image.
FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# A fixed numeric UID/GID, matching runAsUser/runAsGroup in manifests/, so the kubelet can
# verify runAsNonRoot without looking the name up.
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app
COPY app/requirements.txt /tmp/requirements.txt
# Runtime dependencies only: the lines marked build-only (grpcio-tools, PyYAML) stay out.
RUN grep -v 'build-only' /tmp/requirements.txt > /tmp/runtime-requirements.txt \
 && pip install -r /tmp/runtime-requirements.txt \
 && rm /tmp/requirements.txt /tmp/runtime-requirements.txt
WORKDIR /app
COPY app/*.py ./
COPY --from=stubs /src/app/generated/ generated/
# Byte-compile now: the root filesystem is read-only at run time, so Python cannot cache later.
RUN python -m compileall -q /app
USER 10001:10001
EXPOSE 9000 8080
CMD ["python", "server.py"]
