"""One spider per source type (see config/sources.yaml): rss, news_list, news_search, tieba, discuz,
weibo_search, weibo_page. Each is a thin SourceSpider that names its page objects."""
