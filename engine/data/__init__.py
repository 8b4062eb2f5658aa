"""From web pages to dataset rows: the sample web, the crawl, extraction, cleaning, storage."""
