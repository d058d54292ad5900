# Stamps one of deploy/Dockerfile's images with a release version (scripts/images.sh): the only layer
# that differs between versions, so a version's images take seconds once the sources were built.
# The web answers this version (server/utils/config.ts), the updater and CLI report it, and
# convex-deploy names it in the deployment's audit message.
ARG IMAGE
FROM ${IMAGE}
ARG OWLAT_VERSION
LABEL org.opencontainers.image.version="${OWLAT_VERSION}"
ENV OWLAT_VERSION=${OWLAT_VERSION}
