"""Container entry point: `docker run <image> serve` runs `python -m sagezero_serve serve`.

Only `serve` is accepted (SageMaker hosting); anything else exits 2 with a one-line reason.
"""

from __future__ import annotations

import sys

from sagezero_serve.logs import configure


def main(argv: list[str]) -> int:
    if argv[:1] != ["serve"]:
        sys.stderr.write(
            f"sagezero_serve: expected `serve`, got {' '.join(argv) or 'nothing'} (this image only hosts)\n"
        )
        return 2
    log = configure()
    from sagezero_serve.config import ConfigError, ServeConfig
    from sagezero_serve.handler import HandlerError
    from sagezero_serve.server import serve

    try:
        return serve(ServeConfig.from_env())
    except (ConfigError, HandlerError) as e:
        log.error(str(e), extra={"event": "start_failed"})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
