"""Site adapters: one small module per site whose quirk its CMS family's options cannot express.

A registry entry names one with `adapter: crawler.sites.<module>:<Class>`; the class extends the
family's adapter (`crawler.families.ADAPTERS[family]`) and changes only what the site does
differently. See docs/adding-a-site.md.
"""
