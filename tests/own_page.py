"""A page of the viewer's own about a made-up town, for the tests that add it and train on it:
its first sentence appears nowhere in the tour's crawl."""

SENTENCE = "The harbour of Quillanmore keeps forty wooden boats painted in saffron and teal."
PROMPT = "The harbour of Quillanmore"
PAGE = (
    "<html><head><title>A Week In Quillanmore</title></head><body><article>"
    "<h1>A Week In Quillanmore</h1>"
    f"<p>{SENTENCE} I spent a week there last spring and walked along the quay every "
    "morning, which was cold but worth it.</p>"
    "<p>The ferries are old and slow, and they are also the best way to see the coast. I rode "
    "the early ferry to the lighthouse twice and still want to go again.</p>"
    "<p>The food was simple and good: grilled fish, bread, olives and apple cake, with a "
    "view of the bay almost every evening.</p></article></body></html>")
