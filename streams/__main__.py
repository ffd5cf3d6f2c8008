"""``python -m streams worker -l info`` runs the faust worker with every agent loaded.

The web server follows ``HOTLINE_WEB_PORT`` (0 turns it off) unless web options are given.
"""

import sys

from streams.app import load_all, settings

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["worker"] and not any(a.startswith(("--with", "--web", "-p")) for a in argv):
        argv += ["--without-web"] if settings.web_port == 0 else ["--web-port", str(settings.web_port), "--web-bind", "127.0.0.1"]
    sys.argv = [sys.argv[0], *argv]
    load_all().main()
