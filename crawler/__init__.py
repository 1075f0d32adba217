"""The Scrapy project that finds annual reports on government portals and keeps their exact bytes.

Layout: `registry` (sources/*.yaml), `recognise` (is this link a report, of which year),
`families/` (one adapter per CMS family), `attachments` (article page → document links),
`sniff` (are the bytes what they claim), `store` (content-addressed raw store),
`index` (the crawl index the application reads), `spiders/reports.py` (the one spider),
`middlewares`, `settings`, `config` (what a crawl process is told by its parent) and
`python -m crawler` (one crawl per process; `nianbao.stages.crawl` starts it).
"""
