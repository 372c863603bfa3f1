"""Pulumi program entry point: `pulumi up` runs this; the logic lives in sagezero.program."""

from sagezero.program import main

main()
