from . import digest


def write_digest_job() -> dict | None:
    return digest.write_digest()
