"""The TLS trust of every HTTPS connection: the system's CAs (``SSL_CERT_FILE`` honoured) plus an
optional CA bundle, such as a corporate proxy's root certificate."""

from __future__ import annotations

import ssl

from webex_bulk.error_handling import ConfigError


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying client context; ``ca_bundle`` adds its certificates to the default ones."""
    # create_default_context loads OpenSSL's default paths, which read SSL_CERT_FILE/SSL_CERT_DIR.
    context = ssl.create_default_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            problem = getattr(error, "strerror", None) or "no PEM certificate in it"
            raise ConfigError(
                "ca_bundle", ca_bundle, f"cannot use the CA bundle: {problem}"
            ) from None
    return context
