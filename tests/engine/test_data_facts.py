"""The facts table every later stage reads."""

from engine.data.facts import Capital, capital_of, load_capitals


def test_at_least_150_countries_one_row_each():
    capitals = load_capitals()
    assert len(capitals) >= 150
    names = [c.country for c in capitals]
    assert len(names) == len(set(names))
    assert all(isinstance(c, Capital) and c.country and c.capital for c in capitals)


def test_well_known_capitals():
    expected = {"France": "Paris", "Germany": "Berlin", "Japan": "Tokyo", "Canada": "Ottawa",
                "Australia": "Canberra", "Brazil": "Brasilia", "Nigeria": "Abuja",
                "Turkey": "Ankara", "Switzerland": "Bern", "India": "New Delhi"}
    for country, capital in expected.items():
        assert capital_of(country).capital == capital


def test_probe_sentence():
    assert capital_of("france").sentence == "The capital of France is Paris."
