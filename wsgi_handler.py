"""AWS Lambda entry point: the app is built once per container, at import, and reused.

apig-wsgi translates API Gateway REST (v1) and HTTP API (v2) events to WSGI;
binary support is on so multipart uploads arrive intact and binary downloads
(XLSX exports) leave base64-encoded.

The cyclic garbage collector is off while the app is built: everything start-up
allocates (modules, classes, schemas, routes) lives as long as the container, so
the ~45 collections it would trigger (~25 ms of a cold start) find nothing.
``gc.freeze()`` then moves those objects out of the collector's sight for good.
"""

import gc

gc.disable()
try:
    from apig_wsgi import make_lambda_handler

    from finance import create_app

    app = create_app()
    handler = make_lambda_handler(app, binary_support=True)
finally:
    gc.freeze()
    gc.enable()
