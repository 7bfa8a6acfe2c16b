import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from simulator.inventory import generate
from simulator.server import make_server
from simulator.world import World


class Command(BaseCommand):
    help = "Run the SoftLayer API simulator (XML-RPC on 127.0.0.1) for demos, development and tests."
    requires_system_checks = []  # it touches no database

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=settings.SIMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--devices", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--time-scale", type=float, default=0.02,
            help="real seconds per simulated second (0.02: a 4-minute rescue takes about 5 s)",
        )
        parser.add_argument("--latency-ms", type=float, default=25.0, help="added to every API request")
        parser.add_argument("--username", default=settings.SOFTLAYER_USERNAME)
        parser.add_argument("--api-key", default=settings.SOFTLAYER_API_KEY)

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        inventory = generate(options["devices"], options["seed"])
        world = World(inventory=inventory, username=options["username"], api_key=options["api_key"],
                      time_scale=options["time_scale"], seed=options["seed"],
                      latency=options["latency_ms"] / 1000)
        server = make_server(world, port=options["port"])
        host, port = server.server_address[:2]
        # The first line is read by tests and `make run` to learn the port; keep its shape.
        self.stdout.write(f"SoftLayer simulator listening on http://{host}:{port}/xmlrpc/v3.1/")
        self.stdout.write(
            f"  {len(inventory.guests)} virtual servers, {len(inventory.hardware)} bare metal servers "
            f"(seed {options['seed']}, generated in {time.monotonic() - started:.2f}s); "
            f"API user {options['username']}"
        )
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
