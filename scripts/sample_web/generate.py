"""Write the sample web: HTML pages for a dozen fake sites under ``sites/<host>/``.

Run ``python -m scripts.sample_web.generate`` (from the repository root) after changing the facts table
(``engine/data/capitals.csv``), the articles or the templates; the output is kept in
the repository so the crawl needs nothing but the files. The generator is seeded,
so the same inputs always write the same pages.

What it writes:
- good sites whose articles are kept: travel notes (with the talk's page on European
  capitals), a world atlas, a geography class, a postcard club, a personal events blog
  (with the talk's wedding toast), a kitchen and a science site;
- pages built to be dropped, each for its own reason: a mirror (exact copies), a
  copycat (near-copies with small edits), a deals site (keyword stuffing, a page of
  links, lorem ipsum, too short), pages in French, German and Spanish, links to
  blocklisted domains and to files of the wrong type, and paths robots.txt disallows;
- contact pages with e-mail addresses, which are kept after anonymisation.
"""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

from engine.data.facts import Capital, load_capitals
from engine.data.web.server import SITES_DIR
from scripts.sample_web import articles, phrasing
from scripts.sample_web.layout import Site, esc, page

SEED = 1234

TRAVEL = Site("travel-notes.example", "Public travel notes", "Notes from the road, shared freely",
              "#1b6ca8", [("Home", "/"), ("Capitals", "/europe/capitals"), ("Packing", "/tips/packing-light")])
EVENTS = Site("small-events.example", "Personal blog", "Speeches, parties and small gatherings",
              "#b5446e", [("Home", "/"), ("About", "/about/maya")])
ATLAS = Site("world-atlas.example", "World atlas", "Every country, every capital",
             "#2e7d32", [("Home", "/")])
CLASS = Site("geography-class.example", "Geography class", "Lessons and quizzes for pupils",
             "#ef6c00", [("Home", "/"), ("Teachers", "/about/teachers")])
POSTCARDS = Site("postcard-club.example", "Postcard club", "Cards from members on the road",
                 "#6a1b9a", [("Home", "/")])
KITCHEN = Site("home-kitchen.example", "Home kitchen", "Everyday cooking, step by step",
               "#c62828", [("Home", "/")])
SCIENCE = Site("science-basics.example", "Science basics", "How the world works, simply",
               "#00838f", [("Home", "/")])
DAILY = Site("daily-capital.example", "Capital of the day", "One capital city every day",
             "#0277bd", [("Home", "/")])
WALKS = Site("city-walks.example", "City walks", "Walking routes through the world's capitals",
             "#558b2f", [("Home", "/")])
MIRROR = Site("travel-mirror.example", "Public travel notes", "Notes from the road, shared freely",
              "#1b6ca8", [("Home", "/")])
COPYCAT = Site("copycat-news.example", "Copycat news", "Trending stories from around the web",
               "#455a64", [("Home", "/")])
DEALS = Site("top-deals-hub.example", "Top deals hub", "The best deals, every day",
             "#f9a825", [("Home", "/")])
FRENCH = Site("carnets-voyage.example", "Carnets de voyage", "Récits et conseils de voyage",
              "#3949ab", [("Accueil", "/")], lang="fr")
GERMAN = Site("reisetipps.example", "Reisetipps", "Tipps für unterwegs", "#5d4037",
              [("Start", "/")], lang="de")
SPANISH = Site("notas-de-viaje.example", "Notas de viaje", "Apuntes de viaje", "#00695c",
               [("Inicio", "/")], lang="es")

# Links that a crawler meets on real pages and must not follow.
BLOCKED_LINKS = [
    ("Hot singles near you", "http://hot-singles-tonight.example/join"),
    ("Adult videos", "http://xxx-video-world.example/free"),
    ("Download the free PC cleaner", "http://free-pc-cleaner-download.example/setup"),
    ("Claim your prize now", "http://claim-your-prize-now.example/winner"),
    ("Cheap pills online", "http://cheap-pills-online.example/buy"),
    ("Casino bonus, no deposit", "http://casino-bonus-spam.example/spin"),
]
FILE_LINKS = [
    ("Printable map of Europe (PDF)", "/files/europe-map.pdf"),
    ("Capitals worksheet (PDF)", "/files/capitals-worksheet.pdf"),
    ("Photo: Paris at night", "/photos/paris-night.jpg"),
    ("Photo: the old harbour", "/photos/harbour.jpg"),
    ("All our maps in one archive", "/downloads/maps.zip"),
    ("Offline reader for Windows", "/downloads/travel-reader.exe"),
]

START = date(2024, 1, 8)


class Writer:
    """Collects pages per host and writes them under ``SITES_DIR``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict[str, str]] = {}

    def add(self, host: str, path: str, text: str) -> str:
        name = "index.html" if path.endswith("/") else path.lstrip("/") + ".html"
        if path.endswith("/") and path != "/":
            name = path.strip("/") + "/index.html"
        if path == "/robots.txt":
            name = "robots.txt"
        self.files.setdefault(host, {})[name] = text
        return f"http://{host}{path}"

    def write(self) -> int:
        for host, files in self.files.items():
            files.setdefault("robots.txt", "User-agent: *\nAllow: /\n")
        if self.root.exists():
            shutil.rmtree(self.root)
        count = 0
        for host, files in self.files.items():
            for name, text in files.items():
                target = self.root / host / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                count += 1
        return count


def _chunks(items: list, size: int) -> list[list]:
    """Split into parts of about ``size`` items, as even as possible."""
    parts = max(1, -(-len(items) // size))
    base, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + base + (i < extra)
        out.append(items[start:end])
        start = end
    return out


def _by_continent(capitals: list[Capital]) -> dict[str, list[Capital]]:
    groups: dict[str, list[Capital]] = {}
    for item in capitals:
        groups.setdefault(item.continent, []).append(item)
    return groups


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


class Draw:
    """Hands out templates from a pool without repeating one on the same page."""

    def __init__(self, rng: random.Random, pool: list[str]) -> None:
        self.rng, self.pool, self.left = rng, pool, []

    def new_page(self) -> None:
        self.left = self.pool[:]
        self.rng.shuffle(self.left)

    def __call__(self, **keys: object) -> str:
        if not self.left:
            self.new_page()
        return self.left.pop().format(**keys)


def _paragraphs(paras: list[str]) -> str:
    return "\n".join(f"<p>{esc(p)}</p>" for p in paras)


def _fmt(item: Capital, n: int = 0) -> dict:
    return {"c": item.country, "cap": item.capital, "cont": item.continent, "n": n,
            "initial": item.country[0]}


def _with_fact(item: Capital, draws: list[Draw]) -> str:
    """One sentence from each pool, with the exact fact sentence second."""
    sentences = [d(**_fmt(item)) for d in draws]
    sentences.insert(1, item.sentence)
    return " ".join(sentences)


def build(capitals: list[Capital], rng: random.Random) -> Writer:
    w = Writer(SITES_DIR)
    day = iter(START + timedelta(days=3 * i) for i in range(10_000))
    groups = _by_continent(capitals)
    friends = [("Public travel notes", "http://travel-notes.example/"),
               ("World atlas", "http://world-atlas.example/"),
               ("Geography class", "http://geography-class.example/"),
               ("Postcard club", "http://postcard-club.example/"),
               ("Personal blog", "http://small-events.example/"),
               ("Home kitchen", "http://home-kitchen.example/"),
               ("Science basics", "http://science-basics.example/"),
               ("Capital of the day", "http://daily-capital.example/"),
               ("City walks", "http://city-walks.example/")]

    def emit(site: Site, path: str, title: str, body: str, section: str, author: str,
             sidebar: list | None = None, ads: list | None = None, **extra) -> str:
        ads = ads if ads is not None else [rng.choice(BLOCKED_LINKS)]
        return w.add(site.host, path, page(
            site, title=title, body=body, date=next(day).isoformat(), author=author,
            section=section, sidebar=sidebar or [], ads=ads, footer_links=friends,
            canonical=f"http://{site.host}{path}", **extra))

    # travel-notes.example ------------------------------------------------------------
    talk = [
        "Students often mix up cities, regions, and countries when learning geography.",
        ("The capital of France is Paris. It appears in this toy document as ordinary web "
        "text, exactly the kind of sentence a crawler might collect before cleaning."),
        ("After collection, this page would be reduced to plain text and stored alongside "
        "many other documents."),
    ]
    travel_pages: list[tuple[str, str]] = []
    draws = [Draw(rng, pool) for pool in (phrasing.TRAVEL_OPEN, phrasing.TRAVEL_AGAIN,
                                          phrasing.TRAVEL_TIP, phrasing.TRAVEL_RECALL,
                                          phrasing.TRAVEL_EXTRA)]
    for continent, items in groups.items():
        parts = _chunks(items, 8)
        for number, part in enumerate(parts, 1):
            for d in draws:
                d.new_page()
            blocks = []
            for item in part:
                k = _fmt(item)
                sentences = [draws[0](**k), f"The capital of {item.country} is {item.capital}.",
                             draws[1](**k), draws[4](**k), draws[2](**k), draws[3](**k)]
                blocks.append(f"<h2>{esc(item.country)}</h2>\n<p>{esc(' '.join(sentences))}</p>")
            first, last = part[0].country, part[-1].country
            title = f"Capitals Of {continent}, Part {number}: {first} To {last}"
            path = f"/guides/{_slug(continent)}-{number}"
            intro = (f"<p>This guide covers {len(part)} countries of {continent}, from {first} "
                     f"to {last}, with the capital of each and a few practical notes.</p>")
            travel_pages.append((title, path))
            extra_links = [FILE_LINKS[len(travel_pages) % len(FILE_LINKS)]]
            emit(TRAVEL, path, title, intro + "\n" + "\n".join(blocks), "Geography basics",
                 "Travel desk", sidebar=[("A Quick Guide To European Capitals",
                                          "/europe/capitals")] + extra_links)
    for slug, title, section, paras in articles.TRAVEL:
        travel_pages.append((title, f"/tips/{slug}"))
        emit(TRAVEL, f"/tips/{slug}", title, _paragraphs(paras), section, "Travel desk")
    emit(TRAVEL, "/europe/capitals", "A Quick Guide To European Capitals", _paragraphs(talk),
         "Geography basics", "Travel desk",
         sidebar=[(t, p) for t, p in travel_pages[:3]] + FILE_LINKS[:3]
         + [("Draft: capitals of the Arctic", "/drafts/arctic-capitals"),
            ("Carnets de voyage", "http://carnets-voyage.example/")])
    for slug in ("arctic-capitals", "unfinished-itinerary"):
        emit(TRAVEL, f"/drafts/{slug}", f"Draft: {slug.replace('-', ' ')}",
             _paragraphs([("This draft is not ready for readers yet. The facts still need "
                          "checking and the photos are missing.")] * 1), "Drafts", "Travel desk")
    w.add(TRAVEL.host, "/robots.txt",
          "User-agent: *\nDisallow: /drafts/\nCrawl-delay: 0\n")
    index = ["<p>Free travel notes from our writers and readers. Start with a guide below.</p>",
             "<ul>"] + [f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in travel_pages]
    index += ['<li><a href="/europe/capitals">A Quick Guide To European Capitals</a></li>',
              '<li><a href="/drafts/unfinished-itinerary">Draft itinerary</a></li>', "</ul>"]
    emit(TRAVEL, "/", "Public travel notes", "\n".join(index), "Home", "Travel desk",
         sidebar=FILE_LINKS[3:])

    # world-atlas.example --------------------------------------------------------------
    draws = [Draw(rng, pool) for pool in (phrasing.ATLAS_OPEN, phrasing.ATLAS_CAPITAL,
                                          phrasing.ATLAS_MORE, phrasing.ATLAS_EXTRA,
                                          phrasing.ATLAS_CLOSE)]
    atlas_pages = []
    for continent, items in groups.items():
        for number, part in enumerate(_chunks(items, 8), 1):
            for d in draws:
                d.new_page()
            blocks = []
            for item in part:
                k = _fmt(item)
                blocks.append(
                    f"<section><h2>{esc(item.country)}</h2>\n"
                    f"<p>{esc(draws[0](**k))} {esc(item.capital)} is the capital of "
                    f"{esc(item.country)}. {esc(' '.join(d(**k) for d in draws[1:]))}</p>"
                    "</section>")
            title = f"Countries Of {continent} ({number}): {part[0].country} To {part[-1].country}"
            path = f"/countries/{_slug(continent)}/{number}"
            atlas_pages.append((title, path))
            emit(ATLAS, path, title,
                 f"<p>Profiles of {len(part)} countries in {continent}.</p>\n" + "\n".join(blocks),
                 "Country profiles", "Atlas editors",
                 sidebar=[(t, p) for t, p in atlas_pages[-3:-1]] + [FILE_LINKS[1]])
    emit(ATLAS, "/", "World atlas", "<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in atlas_pages) + "</ul>",
        "Home", "Atlas editors")

    # geography-class.example ----------------------------------------------------------
    draws = [Draw(rng, pool) for pool in (phrasing.CLASS_QUESTION, phrasing.CLASS_TIP,
                                          phrasing.CLASS_EXTRA)]
    lessons = []
    number = 0
    for continent, items in groups.items():
        for part_no, part in enumerate(_chunks(items, 12), 1):
            for d in draws:
                d.new_page()
            rows = []
            for item in part:
                number += 1
                k = _fmt(item, number)
                rows.append(f"<p>{esc(' '.join(d(**k) for d in draws))}</p>")
            title = f"Lesson: The Capitals Of {continent}, Part {part_no}"
            path = f"/lessons/{_slug(continent)}-{part_no}"
            lessons.append((title, path))
            emit(CLASS, path, title,
                 f"<p>In this lesson we learn the capitals of {len(part)} countries in "
                 f"{continent}. Read each question, answer it aloud, then check.</p>\n"
                 + "\n".join(rows), "Lessons", "Ms. Okafor")
    emit(CLASS, "/about/teachers", "Meet The Teachers", _paragraphs([
        ("Our geography club meets every Tuesday after school in room 12. New members are "
        "always welcome, and no experience is needed to join the weekly map quiz."),
        ("Ms. Okafor teaches world geography and writes most of the lessons on this site. "
        "You can reach her at a.okafor@geography-class.example with questions about the "
        "lessons or the quiz."),
        ("Mr. Lindqvist runs the map club and the spring field trip. Write to him at "
        "erik.lindqvist@geography-class.example if you would like to help."),
        ("Parents who want to volunteer can contact the school office at "
        "office@geography-class.example and we will get back to you within a week."),
    ]), "About", "Ms. Okafor")
    emit(CLASS, "/", "Geography class", "<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in lessons) + "</ul>",
        "Home", "Ms. Okafor", sidebar=FILE_LINKS[1:2])

    # postcard-club.example ------------------------------------------------------------
    draws = [Draw(rng, pool) for pool in (phrasing.POSTCARD_OPEN, phrasing.POSTCARD_FACT,
                                          phrasing.POSTCARD_MIDDLE, phrasing.POSTCARD_CLOSE)]
    members = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
    cards = []
    shuffled = capitals[:]
    rng.shuffle(shuffled)
    for number, part in enumerate(_chunks(shuffled, 10), 1):
        for d in draws:
            d.new_page()
        letters = []
        for item, who in zip(part, rng.sample(members, len(part))):
            k = _fmt(item)
            letters.append(f"<h2>{esc(who)} in {esc(item.capital)}</h2>\n"
                           f"<p>{esc(' '.join(d(**k) for d in draws))} Love, {esc(who)}.</p>")
        title = f"Postcards From Our Members, Batch {number}"
        path = f"/cards/batch-{number}"
        cards.append((title, path))
        emit(POSTCARDS, path, title,
             "<p>Members send us cards from the cities they visit. Here are the latest.</p>\n"
             + "\n".join(letters), "Members' cards", "Club secretary")
    emit(POSTCARDS, "/", "Postcard club", "<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in cards) + "</ul>",
        "Home", "Club secretary")

    # daily-capital.example ------------------------------------------------------------
    draws = [Draw(rng, pool) for pool in (phrasing.DAILY_OPEN, phrasing.DAILY_FACT,
                                          phrasing.DAILY_MORE, phrasing.DAILY_EXTRA,
                                          phrasing.DAILY_CLOSE)]
    columns = []
    for continent, items in groups.items():
        for number, part in enumerate(_chunks(items, 6), 1):
            for d in draws:
                d.new_page()
            body = [f"<p>This week's column visits {len(part)} capitals of {continent}.</p>"]
            for item in part:
                k = _fmt(item)
                body.append(f"<h2>{esc(item.capital)}</h2>\n"
                            f"<p>{esc(_with_fact(item, draws))}</p>")
            title = f"Capital Of The Day: {continent}, Week {number}"
            path = f"/columns/{_slug(continent)}-week-{number}"
            columns.append((title, path))
            emit(DAILY, path, title, "\n".join(body), "Daily column", "Column desk")
    emit(DAILY, "/", "Capital of the day", "<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in columns) + "</ul>",
        "Home", "Column desk")

    # city-walks.example ---------------------------------------------------------------
    draws = [Draw(rng, pool) for pool in (phrasing.WALK_OPEN, phrasing.WALK_FACT,
                                          phrasing.TRAVEL_EXTRA, phrasing.WALK_END)]
    walks = []
    order = capitals[:]
    rng.shuffle(order)
    for number, part in enumerate(_chunks(order, 7), 1):
        for d in draws:
            d.new_page()
        body = ["<p>Seven short walks through seven capitals, with what we saw on the way.</p>"]
        for item in part:
            k = _fmt(item)
            body.append(f"<h2>Walking in {esc(item.capital)}</h2>\n"
                        f"<p>{esc(_with_fact(item, draws))}</p>")
        title = f"Capital Walks, Collection {number}"
        path = f"/walks/collection-{number}"
        walks.append((title, path))
        emit(WALKS, path, title, "\n".join(body), "Walking routes", "Lena")
    emit(WALKS, "/", "City walks", "<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in walks) + "</ul>",
        "Home", "Lena")

    # small-events.example, home-kitchen.example, science-basics.example ------------
    for site, items, prefix, author, home_title in (
            (EVENTS, articles.EVENTS, "/blog/", "Maya", "Personal blog"),
            (KITCHEN, articles.KITCHEN, "/recipes/", "Sam", "Home kitchen"),
            (SCIENCE, articles.SCIENCE, "/articles/", "Dr. Reyes", "Science basics")):
        links = [(title, prefix + slug) for slug, title, _s, _p in items]
        for slug, title, section, paras in items:
            emit(site, prefix + slug, title, _paragraphs(paras), section, author,
                 sidebar=[x for x in links if x[1] != prefix + slug][:4])
        home = "<ul>" + "".join(f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in links)
        if site is EVENTS:
            home += '<li><a href="/private/guest-list">Guest list</a></li>'
        emit(site, "/", home_title, home + "</ul>", "Home", author)
    emit(EVENTS, "/about/maya", "Get In Touch", _paragraphs([
        ("Thank you for reading this little blog about speeches, parties, and the small "
        "gatherings that make a year feel full."),
        ("If you would like help with a toast or want to share a story of your own, write to "
        "me at maya.writes@small-events.example and I will answer within a few days."),
        ("For questions about reusing an article, please contact my editor at "
        "editor@small-events.example instead."),
        ("I read every message, even when I am slow to reply, and I am always happy to hear "
        "how a speech went."),
    ]), "About", "Maya")
    emit(EVENTS, "/private/guest-list", "Guest List", _paragraphs([
        "The guest list for the summer party is private and should not be indexed."]),
        "Private", "Maya")
    w.add(EVENTS.host, "/robots.txt", "User-agent: *\nDisallow: /private/\n")

    # Pages built to be dropped -----------------------------------------------------
    # An exact mirror: the same HTML under another host.
    for title, path in travel_pages[:2]:
        w.files.setdefault(MIRROR.host, {})[path.lstrip("/") + ".html"] = \
            w.files[TRAVEL.host][path.lstrip("/") + ".html"]
    w.add(MIRROR.host, "/", page(MIRROR, title="Public travel notes (mirror)", body="<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in travel_pages[:2]) + "</ul>",
        date=START.isoformat(), author="Mirror", section="Home"))

    # Near-copies: another site's articles with new chrome and a few words changed.
    edits = [("Plan at least", "Plan at least"), ("country", "nation"), ("capital city", "main city")]
    copies = []
    for source_host, (title, path) in ((TRAVEL.host, travel_pages[2]),
                                        (TRAVEL.host, travel_pages[3]),
                                        (ATLAS.host, atlas_pages[1])):
        original = w.files[source_host][path.lstrip("/") + ".html"]
        body = original.split("<article>", 1)[1].split("</article>", 1)[0]
        body = body.split("</h1>", 1)[1]
        for old, new in edits:
            body = body.replace(old, new, 1)
        body += "\n<p>Share this story with your friends if you found it useful.</p>"
        slug = _slug(title)
        copies.append((title, f"/trending/{slug}"))
        emit(COPYCAT, f"/trending/{slug}", title, body, "Trending", "Staff writer",
             ads=BLOCKED_LINKS[4:6])
    emit(COPYCAT, "/", "Copycat news", "<ul>" + "".join(
        f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in copies) + "</ul>", "Home",
        "Staff writer")

    # Low-quality pages on a deals site.
    words = ["cheap flights", "best price", "hotel deals", "discount", "buy now", "cheap hotels"]
    stuffing_1 = " ".join(rng.choice(words) for _ in range(220))
    stuffing_2 = ". ".join(
        "Cheap flights to Paris cheap flights cheap hotels Paris best price" for _ in range(25))
    lorem = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
             "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
             "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute "
             "irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla "
             "pariatur.")
    farm = [f"http://{TRAVEL.host}{p}" for _t, p in travel_pages] + [
        f"http://{ATLAS.host}{p}" for _t, p in atlas_pages]
    places = [c.capital for c in capitals]
    link_page = "<ul>" + "".join(
        f'<li><a href="{esc(u)}">Cheap flights to {esc(places[i])} this week</a></li>'
        for i, u in enumerate(farm[:40])) + "</ul>"
    link_page_2 = "<ul>" + "".join(
        f'<li><a href="{esc(u)}">Best hotel deals in {esc(places[-i - 1])} today</a></li>'
        for i, u in enumerate(farm[::-1][:40])) + "</ul>"
    deals = [
        ("/deals/cheap-flights", "Cheap Flights Cheap Flights Best Price", f"<p>{stuffing_1}</p>"),
        ("/deals/paris-hotels", "Cheap Hotels Paris Cheap Flights Paris", f"<p>{stuffing_2}</p>"),
        ("/deals/all-offers", "All Offers", link_page),
        ("/deals/partner-links", "Partner Links", link_page_2),
        ("/deals/sample-layout", "Summer Travel Deals", _paragraphs([
            ("Welcome to our summer travel page, where we collect the best offers on flights, "
            "hotels, and train tickets for families who want to see more of the world."),
            lorem,
            ("Every offer on this page is checked by our team before it is published, and we "
            "update the list every morning so that you never miss a good price."),
            "Sign up for the newsletter to get the best deals in your inbox each week."])),
        ("/deals/template-page", "Winter City Breaks", _paragraphs([
            ("Winter is a wonderful time for a city break, with shorter queues at the museums "
            "and cosy cafes on every corner of the old town."),
            ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. Replace this paragraph "
            "with the description of the hotel."),
            ("Our partners offer discounts on hotels and guided walks in many capitals, and "
            "children under twelve often travel for half the price."),
            "Book early to get the best rooms, and check the cancellation rules before you pay."])),
        ("/deals/soon", "New Deals", _paragraphs([
            ("This offer has ended. Our team is preparing new travel deals for the spring "
            "season, so please visit again next week or sign up to hear about them first.")])),
        ("/deals/empty-offer", "Offer Expired", _paragraphs([
            ("Sorry, the hotel deal you are looking for is no longer available. It was very "
            "popular and sold out quickly, but similar offers appear here every few days.")])),
    ]
    for path, title, body in deals:
        emit(DEALS, path, title, body, "Deals", "Deals team", ads=BLOCKED_LINKS[:4])
    emit(DEALS, "/", "Top deals hub", "<ul>" + "".join(
        f'<li><a href="{p}">{esc(t)}</a></li>' for p, t, _b in deals) + "".join(
        f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for t, h in BLOCKED_LINKS) + "</ul>",
        "Home", "Deals team", ads=BLOCKED_LINKS)

    # Pages in other languages.
    foreign = [
        (FRENCH, "/europe/capitales", "Les capitales européennes", [
            ("Les élèves confondent souvent les villes, les régions et les pays quand ils "
            "apprennent la géographie. La capitale de la France est Paris, et celle de "
            "l'Italie est Rome."),
            ("Pour bien préparer un voyage en Europe, il vaut mieux choisir deux ou trois villes "
            "et prendre le temps de les découvrir à pied, plutôt que de courir d'un musée à "
            "l'autre."),
            ("Le train est souvent le moyen le plus agréable de voyager entre les capitales. Il "
            "part du centre-ville et arrive au centre-ville, sans attente à l'aéroport."),
        ]),
        (FRENCH, "/conseils/bagages", "Voyager léger", [
            ("La plupart des voyageurs emportent beaucoup trop de vêtements. Un petit sac est "
            "plus facile à porter dans les escaliers, les trains et les rues pavées."),
            ("Choisissez des vêtements de quelques couleurs qui vont bien ensemble, et prévoyez "
            "de faire une lessive pendant le voyage."),
            "Avant de partir, posez toutes vos affaires sur le lit et retirez-en un tiers.",
        ]),
        (GERMAN, "/europa/hauptstaedte", "Die Hauptstädte Europas", [
            ("Schüler verwechseln oft Städte, Regionen und Länder, wenn sie Geographie lernen. "
            "Die Hauptstadt von Frankreich ist Paris, und die Hauptstadt von Deutschland ist "
            "Berlin."),
            ("Wer eine Reise durch Europa plant, sollte sich für jede Stadt genug Zeit nehmen. "
            "Zu Fuß entdeckt man die Altstadt am besten, und ein Stadtplan hilft dabei."),
            ("Mit dem Zug kommt man bequem von einer Hauptstadt zur nächsten, ohne lange "
            "Wartezeiten am Flughafen."),
        ]),
        (SPANISH, "/europa/capitales", "Las capitales de Europa", [
            ("Los estudiantes a menudo confunden ciudades, regiones y países cuando aprenden "
            "geografía. La capital de Francia es París y la capital de España es Madrid."),
            ("Para preparar un buen viaje por Europa conviene elegir pocas ciudades y "
            "recorrerlas con calma, a pie, sin correr de un museo a otro."),
            ("El tren suele ser la forma más cómoda de viajar entre capitales, porque sale del "
            "centro de la ciudad y llega al centro de la otra."),
        ]),
    ]
    by_site: dict[str, list] = {}
    for site, path, title, paras in foreign:
        by_site.setdefault(site.host, []).append((title, path))
        emit(site, path, title, _paragraphs(paras), "Voyage", "Redaction", ads=[])
    for site in (FRENCH, GERMAN, SPANISH):
        emit(site, "/", site.name, "<ul>" + "".join(
            f'<li><a href="{esc(p)}">{esc(t)}</a></li>' for t, p in by_site[site.host]) + "</ul>",
            "Home", "Redaction", ads=[])
    return w


def main() -> None:
    rng = random.Random(SEED)
    writer = build(load_capitals(), rng)
    count = writer.write()
    print(f"wrote {count} files for {len(writer.files)} hosts under {SITES_DIR}")


if __name__ == "__main__":
    main()
