"""Evidence packages: files with a signed manifest, chunked encrypted transfer, a signed chain
of custody, offline verification and CASE/UCO export. A pure core: no database, no network.

The formats are written down for a court expert in `README.md` beside this file.
"""
