"""The Scrapy project that finds annual reports on government portals and keeps their exact bytes.

Layout: `registry` (sources/*.yaml), `recognise` (is this link a report, of which year),
`families/` (one adapter per CMS family, the one list of families), `sites/` (a site's own
adapter, for a quirk its family cannot express), `attachments` (article page → document links),
`sniff` (are the bytes what they claim), `store` (content-addressed raw store),
`index` (the crawl index the application reads), `spiders/reports.py` (the one spider: it
decides and yields `items`), `pipelines` (the raw-store pipeline keeps them), `extensions` (the
run summary, `summary.CrawlSummary`), `middlewares` (safety, challenge pages), `settings`,
`config` (what a crawl process is told by its parent) and `python -m crawler` (one crawl per
process; `nianbao.stages.crawl` starts it).
"""
