"""AWS Lambda entry point: the app is built once per container, at import, and reused.

apig-wsgi translates API Gateway REST (v1) and HTTP API (v2) events to WSGI;
binary support is on so multipart uploads arrive intact and binary downloads
(XLSX exports) leave base64-encoded.
"""

from apig_wsgi import make_lambda_handler

from finance import create_app

app = create_app()
handler = make_lambda_handler(app, binary_support=True)
