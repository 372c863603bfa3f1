"""Container entry point: `docker run <image> serve` runs `python -m sagezero_serve serve`.

Only `serve` is accepted (SageMaker hosting); anything else exits 2 with a one-line reason. A
configuration, model folder or handler that cannot work ends start-up with one JSON log line and
exit 1, before the port opens, so SageMaker never sees a healthy container without a model.
`serve` runs the supervisor, which runs this again as the server process (see supervisor).
"""

from __future__ import annotations

import os
import sys

from sagezero_serve.logs import capture_process_output, configure
from sagezero_serve.supervisor import CHILD_ENV


def main(argv: list[str]) -> int:
    if argv[:1] != ["serve"]:
        sys.stderr.write(
            f"sagezero_serve: expected `serve`, got {' '.join(argv) or 'nothing'} (this image only hosts)\n"
        )
        return 2
    log_fd = os.environ.pop(CHILD_ENV, None)
    if log_fd is None:
        from sagezero_serve.supervisor import run

        return run()  # this process watches; a child runs the server (see supervisor)
    fd = int(log_fd)
    os.set_inheritable(fd, False)  # the handler's own subprocesses get stdout and stderr, not this
    log = configure(stream=open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace"))  # noqa: SIM115
    capture_process_output(log)
    from sagezero_serve.config import ConfigError, ServeConfig
    from sagezero_serve.handler import HandlerError
    from sagezero_serve.server import serve

    try:
        return serve(ServeConfig.from_env())
    except ConfigError as e:
        log.error(str(e), extra={"event": "start_failed"})
    except HandlerError as e:
        extra = {"event": "start_failed"} | ({"traceback": e.trace} if e.trace else {})
        log.error(str(e), extra=extra)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
