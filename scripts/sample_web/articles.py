"""Hand-written articles on everyday topics for the sample web.

Each entry is (slug, title, section, paragraphs). The generator wraps them in a
site's layout. They are ordinary, correct, plain English: the kind of text a
crawler keeps.
"""

from __future__ import annotations

# small-events.example: a personal blog about speeches and gatherings.
EVENTS = [
    ("wedding-toast", "How To Give A Warm Wedding Toast", "Reception advice", [
        "The best speeches usually sound like one person speaking sincerely to another person.",
        ("A good wedding toast should be personal, brief, and kind. It can include a small "
        "story, a thank-you, and a clear wish for the couple."),
        ("This is another toy source document that can move through the same scrape, process, "
        "deduplicate, and store pipeline."),
    ]),
    ("birthday-speech", "A Short Birthday Speech For A Friend", "Party speeches", [
        ("A birthday speech does not need to be long. Two or three minutes is plenty, and the "
        "guests will thank you for keeping it short."),
        ("Start by saying how you know the person. Then tell one story that shows who they are: "
        "the time they drove across town in the rain to return a borrowed book, or the way "
        "they always remember everyone's favourite cake."),
        ("Finish by raising your glass and wishing them a happy year ahead. Look at your friend, "
        "not at your notes, when you say the last line."),
        ("If you are nervous, practise the speech out loud twice the day before. Reading it "
        "silently is not the same as hearing your own voice say it."),
    ]),
    ("retirement-toast", "Saying Goodbye To A Colleague At Retirement", "Work events", [
        ("A retirement toast celebrates a working life and looks forward to the years ahead. "
        "Keep the tone warm and avoid jokes about age."),
        ("Mention one or two things the colleague built or changed, and name the people they "
        "helped along the way. Specific memories mean more than a list of job titles."),
        ("Many teams collect short notes from everyone in the office and hand them over in a "
        "folder after the toast. It is a small gift that people keep for years."),
        ("End with a simple wish: good health, time for the garden, long walks, or the trip "
        "they have talked about for a decade."),
    ]),
    ("graduation-speech", "What To Say At A Graduation Party", "Party speeches", [
        ("A graduation is a good moment to thank the people who helped a student reach the "
        "finish line: parents, teachers, friends, and the person who drove them to early exams."),
        ("Keep the advice light. Graduates hear plenty of serious speeches at the ceremony, so "
        "a family party is the place for a funny memory and a proud smile."),
        ("If you want to give advice, give one piece only. Stay curious, call your grandmother, "
        "or learn to cook three good meals are all better than a list of ten rules."),
        "Close by congratulating the graduate by name and inviting everyone to raise a glass.",
    ]),
    ("picnic-planning", "Planning A Picnic For Twenty People", "Gatherings", [
        ("A picnic for a large group works best when the food is simple and easy to share. "
        "Sandwiches, fruit, salads in jars, and a big bottle of lemonade travel well."),
        ("Choose a park with shade and toilets nearby, and check the weather forecast the day "
        "before. Bring a backup plan, such as a covered shelter, in case it rains."),
        ("Ask each guest to bring one dish so nobody carries everything. Make a shared list so "
        "you do not end up with six bowls of pasta salad and no bread."),
        ("Pack rubbish bags and leave the place cleaner than you found it. The next group will "
        "be grateful."),
    ]),
    ("thank-you-notes", "Writing Thank-You Notes That People Keep", "Etiquette", [
        ("A thank-you note should name the gift or the help, say why it mattered, and look "
        "ahead to the next time you will see the person."),
        ("Handwritten notes feel personal, but a thoughtful e-mail is better than a card that "
        "never gets sent. Try to write within two weeks of the event."),
        ("Avoid copying the same sentence into every card. Even one detail, such as how you "
        "used the blue teapot on Sunday morning, makes the note feel real."),
        ("Keep a small stack of cards and stamps at home so writing a note takes five minutes "
        "instead of a trip to the shop."),
    ]),
    ("baby-shower-games", "Gentle Games For A Baby Shower", "Gatherings", [
        ("Baby shower games should make guests laugh without embarrassing anyone. Choose "
        "activities that quiet guests can enjoy as much as outgoing ones."),
        ("A favourite is guessing the baby photo: each guest brings a picture of themselves as "
        "a baby and everyone tries to match the photos to the people in the room."),
        ("Another is writing advice cards for the parents, which they can read later during "
        "long nights with a newborn."),
        ("Keep the games short and stop while people are still having fun. Most guests come "
        "for the conversation and the cake."),
    ]),
]

# home-kitchen.example: simple recipes and kitchen basics.
KITCHEN = [
    ("simple-bread", "Baking A Simple Loaf Of Bread", "Baking", [
        ("Bread needs only four ingredients: flour, water, salt, and yeast. The rest is time "
        "and a warm kitchen."),
        ("Mix 500 grams of flour with 10 grams of salt and 7 grams of dried yeast, then add "
        "about 320 millilitres of lukewarm water and stir until no dry flour remains."),
        ("Knead the dough for ten minutes until it is smooth and springs back when pressed. "
        "Cover it and let it rise for about an hour, until it has doubled in size."),
        ("Shape the loaf, let it rise again for thirty minutes, and bake it at 220 degrees "
        "Celsius for 30 to 35 minutes. It is done when the bottom sounds hollow when tapped."),
    ]),
    ("tomato-soup", "A Weeknight Tomato Soup", "Soups", [
        ("Tomato soup is quick, cheap, and comforting. Tinned tomatoes work as well as fresh "
        "ones for most of the year."),
        ("Soften a chopped onion and two cloves of garlic in olive oil over a low heat for "
        "about ten minutes. Add two tins of tomatoes and half a litre of vegetable stock."),
        ("Simmer the soup for twenty minutes, then blend it until smooth. Season with salt, "
        "pepper, and a pinch of sugar if the tomatoes taste sharp."),
        ("Serve it with toasted bread or a grilled cheese sandwich. The soup keeps in the "
        "fridge for three days and freezes well."),
    ]),
    ("fluffy-pancakes", "Fluffy Pancakes For A Slow Breakfast", "Breakfast", [
        ("Good pancakes start with a thick batter that has rested for a few minutes. Whisk "
        "200 grams of flour, two teaspoons of baking powder, a pinch of salt, and a spoon of "
        "sugar in a bowl."),
        ("In another bowl, beat one egg with 250 millilitres of milk and two spoons of melted "
        "butter. Pour the wet ingredients into the dry ones and stir only until combined."),
        ("Heat a lightly oiled pan over a medium heat. Pour in small ladles of batter and turn "
        "each pancake when bubbles appear on the surface."),
        "Serve them warm with fruit, yoghurt, honey, or maple syrup.",
    ]),
    ("perfect-rice", "How To Cook Rice On The Stove", "Kitchen basics", [
        ("Rinse the rice in cold water until the water runs almost clear. Rinsing removes "
        "loose starch, which keeps the grains from sticking together."),
        ("For long grain white rice, use about one and a half cups of water for every cup of "
        "rice. Bring it to the boil with a pinch of salt."),
        ("Turn the heat down as low as it goes, cover the pan with a tight lid, and cook for "
        "fifteen minutes without lifting the lid."),
        ("Take the pan off the heat and let it stand, still covered, for five minutes. Fluff "
        "the rice with a fork before serving."),
    ]),
    ("omelette", "A Two-Minute French Omelette", "Breakfast", [
        ("An omelette is one of the fastest meals you can cook. All you need is two or three "
        "eggs, a little butter, salt, and a non-stick pan."),
        ("Beat the eggs with a pinch of salt until no streaks of white remain. Melt the butter "
        "over a medium heat until it foams."),
        ("Pour in the eggs and stir them gently with a spatula while shaking the pan. When the "
        "eggs are almost set but still soft on top, stop stirring."),
        ("Fold the omelette in thirds and roll it onto a warm plate. Chopped herbs or grated "
        "cheese can go in just before folding."),
    ]),
    ("green-salad", "Building A Better Green Salad", "Salads", [
        ("A great salad starts with dry leaves. Wash the lettuce, then spin or pat it dry so "
        "the dressing clings instead of sliding off."),
        ("A basic vinaigrette is three parts oil to one part vinegar or lemon juice, with a "
        "little mustard, salt, and pepper. Shake it in a jar until it thickens."),
        ("Add something crunchy, such as toasted seeds or croutons, and something sweet, such "
        "as sliced apple or roasted squash."),
        "Dress the salad just before serving and toss it gently with your hands.",
    ]),
    ("tomato-sauce", "A Basic Tomato Sauce For Pasta", "Sauces", [
        ("A good tomato sauce needs patience more than skill. Warm olive oil in a wide pan and "
        "cook sliced garlic until it smells sweet but has not browned."),
        ("Add a tin of whole tomatoes, crush them with a wooden spoon, and season with salt. "
        "Let the sauce bubble gently for twenty to thirty minutes."),
        ("Stir in a few torn basil leaves at the end. Toss the sauce with pasta and a spoonful "
        "of the pasta cooking water so it coats every piece."),
        "Leftover sauce keeps for a week in the fridge and makes a quick pizza topping.",
    ]),
    ("knife-skills", "Five Knife Skills Every Cook Should Learn", "Kitchen basics", [
        ("A sharp knife is safer than a blunt one because it needs less force and is less "
        "likely to slip. Sharpen your knife regularly."),
        ("Hold the food with your fingertips curled under, so the flat side of the blade rests "
        "against your knuckles as you cut."),
        ("Learn to dice an onion: halve it through the root, make horizontal and vertical "
        "cuts, then slice across. The root holds the layers together."),
        ("Practise slicing, chopping herbs, mincing garlic, and cutting carrots into even "
        "sticks. Even pieces cook at the same speed."),
    ]),
]

# science-basics.example: short explanations of everyday science.
SCIENCE = [
    ("water-cycle", "The Water Cycle Explained", "Earth science", [
        ("Water on Earth moves in a continuous cycle. The sun heats water in oceans, lakes, "
        "and rivers, and some of it evaporates into the air as water vapour."),
        ("As the vapour rises, it cools and condenses into tiny droplets that form clouds. When "
        "the droplets join together and grow heavy, they fall as rain, snow, or hail."),
        ("Some of that water flows over the ground into rivers and back to the sea. Some soaks "
        "into the soil and becomes groundwater, which can stay underground for years."),
        "Plants also release water vapour through their leaves, a process called transpiration.",
    ]),
    ("photosynthesis", "How Plants Make Their Food", "Biology", [
        ("Plants make their own food through photosynthesis. They take in carbon dioxide from "
        "the air and water from the soil, and use the energy of sunlight to turn them into "
        "sugar."),
        ("The process happens mainly in the leaves, inside small structures called "
        "chloroplasts. A green pigment called chlorophyll absorbs the light."),
        ("Oxygen is released as a by-product. Almost all of the oxygen in the air we breathe "
        "was produced by plants, algae, and some bacteria."),
        ("The sugar the plant makes gives it energy to grow, and it is also the start of most "
        "food chains on land."),
    ]),
    ("gravity", "Why Things Fall: A Short Introduction To Gravity", "Physics", [
        ("Gravity is the force that pulls objects with mass towards each other. It keeps our "
        "feet on the ground and holds the Moon in orbit around the Earth."),
        ("Near the surface of the Earth, a dropped object speeds up by about 9.8 metres per "
        "second every second, if air resistance is small."),
        ("Isaac Newton described gravity as a force between masses. Albert Einstein later "
        "explained it as the bending of space and time by mass and energy."),
        ("A feather falls more slowly than a stone in air, but in a vacuum they fall at the "
        "same rate, as astronauts showed on the Moon."),
    ]),
    ("phases-of-the-moon", "The Phases Of The Moon", "Astronomy", [
        ("The Moon does not make its own light. We see it because it reflects light from the "
        "sun, and the part we see lit changes as the Moon orbits the Earth."),
        "A full cycle of phases, from new moon to full moon and back, takes about 29.5 days.",
        ("At new moon, the lit side faces away from us. As the Moon moves along its orbit we "
        "see a thin crescent, then a half moon, then a full moon."),
        ("The same side of the Moon always faces the Earth, because the Moon turns once on its "
        "axis in the same time it takes to go around the Earth once."),
    ]),
    ("atoms", "What Everything Is Made Of: Atoms", "Chemistry", [
        ("All ordinary matter is made of atoms. An atom has a small, heavy nucleus of protons "
        "and neutrons, surrounded by much lighter electrons."),
        ("The number of protons decides which element an atom is. Hydrogen has one proton, "
        "carbon has six, and oxygen has eight."),
        ("Atoms join together to form molecules. A water molecule is made of two hydrogen "
        "atoms and one oxygen atom, which is why it is written as H2O."),
        ("Atoms are extremely small: a single drop of water contains more atoms than there are "
        "stars in the observable universe, by most estimates."),
    ]),
    ("seasons", "Why We Have Seasons", "Earth science", [
        ("The Earth has seasons because its axis is tilted by about 23.5 degrees compared with "
        "its path around the sun."),
        ("When the northern half of the planet leans towards the sun, it gets more direct "
        "sunlight and longer days, and it is summer there."),
        ("At the same time the southern half leans away and has winter. Six months later the "
        "situation is reversed."),
        ("The distance between the Earth and the sun changes only a little during the year, "
        "and it is not the reason for the seasons."),
    ]),
    ("electricity", "How Electricity Reaches Your Home", "Physics", [
        ("Electricity is the flow of electric charge, usually carried by electrons moving "
        "through a wire."),
        ("Power stations turn energy from wind, sunlight, water, gas, or nuclear fuel into "
        "electricity by spinning generators or, for solar panels, directly from light."),
        ("Transformers raise the voltage so the power can travel long distances through the "
        "grid with less loss, and lower it again before it enters homes."),
        ("Inside a house, circuits carry the current to lights and sockets, and fuses or "
        "breakers cut the power if too much current flows."),
    ]),
    ("volcanoes", "How Volcanoes Form", "Earth science", [
        ("A volcano is an opening in the Earth's crust through which molten rock, gas, and ash "
        "escape. Molten rock underground is called magma; once it reaches the surface it is "
        "called lava."),
        ("Most volcanoes form where tectonic plates meet: where one plate sinks beneath another, "
        "or where plates pull apart."),
        "Some, like the islands of Hawaii, form over hot spots in the middle of a plate.",
        ("Scientists watch active volcanoes for small earthquakes, rising ground, and changes "
        "in gas to warn nearby towns before an eruption."),
    ]),
    ("sound", "How Sound Travels", "Physics", [
        ("Sound is a vibration that travels through a material such as air, water, or wood. A "
        "vibrating object pushes the air around it and creates waves of pressure."),
        ("In air at room temperature, sound travels at about 343 metres per second. It moves "
        "faster in water and faster still in steel."),
        ("Sound cannot travel through empty space, because there is nothing to carry the "
        "vibration."),
        ("The pitch of a sound depends on how fast the vibration is: faster vibrations make "
        "higher notes."),
    ]),
]

# travel-notes.example: practical travel advice besides the capital guides.
TRAVEL = [
    ("packing-light", "Packing Light For A Two-Week Trip", "Travel tips", [
        ("Most travellers pack far more than they need. A small bag is easier to carry on "
        "trains, up stairs, and through old town streets."),
        ("Choose clothes in a few colours that all go together, so every top works with every "
        "pair of trousers. Plan to wash clothes once or twice during the trip."),
        ("Keep documents, medicine, a charger, and one change of clothes in the bag you carry "
        "with you, in case checked luggage goes missing."),
        "Before you leave, lay everything out on the bed and remove a third of it.",
    ]),
    ("train-travel", "Why Travel By Train", "Travel tips", [
        ("Trains take you from city centre to city centre, so the journey often takes less "
        "time than flying once you count the trip to the airport."),
        "You can walk around, read, work, or look out of the window as the landscape changes.",
        ("Booking early usually gives the best prices, and many countries sell rail passes for "
        "visitors who plan several journeys."),
        ("Pack a snack and a bottle of water, and keep your ticket where you can reach it when "
        "the conductor comes by."),
    ]),
    ("jet-lag", "Beating Jet Lag", "Travel tips", [
        ("Jet lag happens when your body clock is out of step with the time zone you have "
        "travelled to. It is usually worse when flying east."),
        ("Try to get daylight in the morning at your destination, and stay awake until a "
        "normal local bedtime on the first day."),
        "Drink water during the flight and go easy on coffee and alcohol.",
        ("A rough rule is that the body adjusts by about one time zone per day, so a long trip "
        "may take several days to feel normal."),
    ]),
    ("museum-visits", "Getting The Most From A Museum Visit", "Travel tips", [
        ("Large museums are tiring, and nobody can see everything in one day. Pick a few rooms "
        "or a handful of works you really want to see, and start there."),
        "Arrive when the doors open or late in the afternoon to avoid the busiest hours.",
        "Sit down often, look slowly, and take a break in the cafe halfway through.",
        ("Many museums have free entry on certain days of the month, so check the website "
        "before you go."),
    ]),
]
