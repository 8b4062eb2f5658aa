"""Sentence templates for the capital articles, one pool per site's voice.

Every country gets the exact sentence "The capital of {country} is {capital}." on
four sites (the training probe continues "The capital of France is"; a fact seen a
couple of times is recalled unreliably by a model this small), and the same fact in
other phrasings elsewhere ("Paris is the capital of France.", "France's capital,
Paris, ..."). A page never uses one template twice, so its text passes the
repetition rules, and pages of one site share little beyond their subject.
Keys: {c} country, {cap} capital, {cont} continent.
"""

from __future__ import annotations

# travel-notes.example: a travel guide's voice.
TRAVEL_OPEN = [
    "{c} is a country in {cont}.",
    "{c} lies in {cont}, and it rewards travellers who take their time.",
    "On a map of {cont}, look for {c} and the star that marks its capital.",
    "Our notes on {c} come from several trips and from readers who wrote in.",
    "Travellers who plan a long route through {cont} often put {c} on the list.",
    "{c} is one of the countries of {cont} that readers ask us about most.",
    "If you are planning a trip to {cont}, {c} deserves a few days.",
    "Next on our tour of {cont} is {c}.",
    "Readers crossing {cont} by road or rail often pass through {c}.",
    "{c} is a fine place to begin if {cont} is new to you.",
    "Many first visits to {cont} include a stop in {c}.",
    "We keep coming back to {c} whenever we travel in {cont}.",
]
TRAVEL_AGAIN = [
    "{cap} is the capital of {c}, and most visitors spend their first night there.",
    "As the capital of {c}, {cap} is a natural place to start.",
    "{c}'s capital, {cap}, is a good base for day trips.",
    "In {cap}, the capital of {c}, the old centre is best seen on foot.",
    "Plan at least two days in {cap}, the capital city of {c}.",
    "The capital city, {cap}, is where most journeys through {c} begin.",
    "{cap}, the capital of {c}, is lively in the evenings.",
    "For most visitors, {c} starts in {cap}, its capital.",
    "The national capital, {cap}, is the place to learn the history of {c}.",
    "Walking tours of {cap}, the capital of {c}, leave most mornings.",
    "{cap} is not only the capital of {c} but also a friendly city for walkers.",
    "Give yourself an afternoon in the markets of {cap}, the capital of {c}.",
]
TRAVEL_TIP = [
    "Carry some local cash for markets and small cafes.",
    "Check museum opening hours before you go, since many close one day a week.",
    "Ask your hotel for a paper map and mark the places you want to see.",
    "Local buses are cheap, but a taxi is easier late at night.",
    "Bakeries open early, so breakfast is easy to find.",
    "Public holidays can change opening times, so look at the calendar first.",
    "Learn a few words of the local language; people appreciate the effort.",
    "Good walking shoes matter more than anything else in your bag.",
    "Drink plenty of water on hot days and rest in the shade at midday.",
    "Buy a travel card if you plan to use public transport every day.",
    "Book popular tours a few days ahead in the busy season.",
    "Keep a copy of your passport separate from the original.",
]
TRAVEL_RECALL = [
    "Remember: the capital of {c} is {cap}.",
    "So if anyone asks, {cap} is the capital of {c}.",
    "{cap} and {c} belong together on any quiz about {cont}.",
    "In short, {c} has its capital in {cap}.",
    "Keep {cap} in mind as the capital of {c}.",
    "Write it in your notebook: {c}, capital {cap}.",
    "That makes {cap} the capital to remember for {c}.",
    "Which city is the capital of {c}? It is {cap}.",
    "Whatever your route, {cap} is the capital of {c}.",
    "The short answer for {c} is {cap}.",
    "Both the city and the country are worth the trip: {cap} and {c}.",
    "Every atlas agrees that {cap} is the capital of {c}.",
]

# world-atlas.example: an encyclopedia's voice.
ATLAS_OPEN = [
    "{c} is a sovereign country in {cont}.",
    "{c} is a country located in {cont}.",
    "{c} is an independent state in {cont}.",
    "{c} is one of the countries of {cont}.",
    "The country of {c} is found in {cont}.",
    "{c} is a nation in {cont} with its own government and flag.",
    "Geographers place {c} in {cont}.",
    "{c} is counted among the states of {cont}.",
    "{c} is a member of the community of nations of {cont}.",
    "Atlases list {c} with the countries of {cont}.",
]
ATLAS_CAPITAL = [
    "Its capital is {cap}.",
    "The capital city of {c} is {cap}.",
    "Its capital city is {cap}.",
    "{c}'s capital, {cap}, appears on every map of the country.",
    "The official capital of {c} is {cap}.",
    "{cap} serves as the capital of {c}.",
    "The country's capital is {cap}.",
    "{c} has {cap} as its capital.",
    "{cap} has the status of capital of {c}.",
    "The capital of the country is the city of {cap}.",
]
ATLAS_MORE = [
    "Maps of {c} usually mark {cap} with a star.",
    "Official documents of {c} name {cap} as the capital.",
    "Visitors to {c} usually hear the name {cap} first.",
    "Schoolbooks in {c} teach that {cap} is the capital.",
    "{cap} appears on the stamps and coins of {c} as the capital.",
    "Reference works agree that {cap} is the capital of {c}.",
    "The name {cap} is the answer to the question of the capital of {c}.",
    "Students of geography learn {cap} together with {c}.",
    "Weather reports for {c} often begin with {cap}.",
    "When people speak of the capital of {c}, they mean {cap}.",
]

# geography-class.example: a teacher's voice, questions and answers.
CLASS_QUESTION = [
    "Question: What is the capital of {c}? Answer: The capital of {c} is {cap}.",
    "Which city is the capital of {c}? The capital of {c} is {cap}.",
    "Quiz: name the capital of {c}. The capital of {c} is {cap}.",
    "If your teacher asks about {c}, say this: The capital of {c} is {cap}.",
    "Fill in the blank: the capital of {c} is ____. The capital of {c} is {cap}.",
    "True or false: {cap} is the capital of {c}? True. The capital of {c} is {cap}.",
    "Try it yourself before reading on. The capital of {c} is {cap}.",
    "Card {n}: {c}. The capital of {c} is {cap}.",
    "Ask a partner about {c}. The capital of {c} is {cap}.",
    "Next country on the list: {c}. The capital of {c} is {cap}.",
    "Here is one that many pupils know. The capital of {c} is {cap}.",
    "Point to {c} on the map of {cont}. The capital of {c} is {cap}.",
    ("A question from last year's test: what is the capital of {c}? "
    "The capital of {c} is {cap}."),
    "Say it out loud. The capital of {c} is {cap}.",
]
CLASS_TIP = [
    "A memory trick: picture {cap} written across the flag of {c}.",
    "Write {cap} on one side of a card and {c} on the other.",
    "Say the pair {c} and {cap} three times and it sticks.",
    "Find {cap} on the wall map and trace the border of {c} with a finger.",
    "Make up a rhyme with {cap} and {c}; silly rhymes are the easiest to recall.",
    "Test a friend: you say {c}, they answer {cap}.",
    "Draw a small star for {cap} inside the outline of {c}.",
    "Group {c} with its neighbours in {cont} when you revise.",
    "Remember that {c} is in {cont}, and its capital is {cap}.",
    "Use {cap} in a sentence about {c} in your notebook.",
    "Check your answer for {c} against the atlas: {cap}.",
    "Sort the cards by continent; {c} goes in the pile for {cont}.",
    "Cover the answer for {c} with your hand, then look again at {cap}.",
    "Repeat the pair tomorrow morning: {c}, {cap}.",
]

# postcard-club.example: travellers' letters.
POSTCARD_OPEN = [
    "Greetings from {cap}!",
    "Hello from {cap}, everyone.",
    "Dear friends, this card comes from {cap}.",
    "A quick note from {cap} before the post office closes.",
    "We made it to {cap} at last.",
    "Writing this in a cafe in {cap}.",
    "Our week in {cap} is nearly over.",
    "Today's card is from {cap}.",
    "It rained all morning in {cap}, so I am writing cards.",
    "Sending warm wishes from {cap}.",
    "The view from our window in {cap} is lovely tonight.",
    "Good news from {cap}: the bags arrived.",
]
POSTCARD_FACT = [
    "{cap} is the capital of {c}, and it feels like the heart of the country.",
    "As you know, {cap} is the capital of {c}.",
    "{c}'s capital, {cap}, has been kind to us.",
    "Being in the capital of {c} is exciting; {cap} never seems to sleep.",
    "Everyone here is proud that {cap} is the capital of {c}.",
    "I keep reminding the children that {cap} is the capital of {c}.",
    "The capital of {c}, {cap}, is bigger than I imagined.",
    "Our guide says {cap} has been the capital of {c} for a long time.",
    "{cap}, capital of {c}, is full of parks and small shops.",
    "It is strange to think we are in {cap}, the capital of {c}.",
    "In {cap}, the capital of {c}, the mornings are quiet and bright.",
    "We walked all over {cap}, the capital of {c}.",
]
POSTCARD_CLOSE = [
    "Tomorrow we leave {c} for the next stop in {cont}.",
    "We will bring you something small from {c}.",
    "Missing you all, and eating far too well in {c}.",
    "Next week the trip through {cont} continues.",
    "More news soon from the road in {cont}.",
    "Love from both of us in {c}.",
    "The people of {c} have been so welcoming.",
    "Already planning a second visit to {c}.",
    "Hope the garden is doing well; {c} is full of flowers.",
    "Give the cat a hug from {c}.",
    "See you at home after {cont}.",
    "Wish you were here in {c}.",
]

TRAVEL_EXTRA = [
    "A slow morning walk is the best introduction to {cap}.",
    "Evenings in {cap} are a good time to try the food of {c}.",
    "Readers often say their favourite memory of {c} is a meal in {cap}.",
    "Photographers enjoy the early light over the rooftops of {cap}.",
    "Bring a phrasebook for {c}; menus in {cap} are not always translated.",
    "Small guesthouses in {cap} are often friendlier than the big hotels.",
    "Markets in {cap} are at their busiest early on weekend mornings.",
    "Leave room in your plans for the parks and gardens of {cap}.",
    "The public museums of {cap} are a good rainy-day choice in {c}.",
    "From {cap}, day trips to smaller towns of {c} are easy to arrange.",
    "Local guides in {cap} can tell you much more about {c} than any book.",
    "Try to hear some music while you are in {cap}; it says a lot about {c}.",
]

# daily-capital.example: a "capital of the day" column, chatty and a little longer.
DAILY_OPEN = [
    "Today's capital is {cap}, and the country is {c}.",
    "Our capital of the day takes us to {c}.",
    "Next in the series is {c}, in {cont}.",
    "Here is a capital that readers asked for: the capital of {c}.",
    "Let us visit {c} today.",
    "Today we travel, on paper at least, to {c}.",
    "The next stop on our daily trip around {cont} is {c}.",
    "A reader wrote in to ask about {c}, so here it is.",
]
DAILY_FACT = [
    "The capital of {c} is {cap}, a city every quiz fan should know.",
    "{cap} is the capital of {c}, and that is today's fact.",
    "{c}'s capital, {cap}, is the answer to today's question.",
    "If you guessed {cap}, you are right: it is the capital of {c}.",
    "The city of {cap} is the capital of {c}.",
    "{cap} has long been known as the capital of {c}.",
    "Ask anyone from {c} and they will tell you the capital is {cap}.",
    "{c} has one capital, and it is {cap}.",
]
DAILY_MORE = [
    "When you picture {c}, picture {cap} at its centre.",
    "Try saying it aloud: {cap}, capital of {c}.",
    "Many people can find {c} on a map of {cont} but forget {cap}.",
    "Tomorrow you can test a friend: what is the capital of {c}? It is {cap}.",
    "Keep {cap} and {c} together in your memory, like a pair of shoes.",
    "The name {cap} will come up again whenever {c} is in the news.",
    "{cap} belongs on every list of the capitals of {cont}.",
    "So the capital of {c} is {cap}; remember it for the weekly quiz.",
]
DAILY_CLOSE = [
    "Come back tomorrow for another capital from {cont}.",
    "That is all for {c} today.",
    "Share today's capital, {cap}, with someone who loves maps.",
    "See you tomorrow, when we leave {c} behind.",
    "Thanks for reading about {c}.",
    "Tell us which country of {cont} you would like next.",
    "Until tomorrow, goodbye from {cap}.",
    "We hope {cap} is now easy to remember.",
]

ATLAS_EXTRA = [
    "In lists of world capitals, {c} appears with {cap}.",
    "The capital, {cap}, gives its name to many of the institutions of {c}.",
    "In the classroom, {c} is usually taught together with its capital, {cap}.",
    "Cartographers print the name {cap} in capital letters on maps of {c}.",
    "Travel guides to {c} often open with a chapter on {cap}.",
    "Encyclopedias describe {cap} as the capital city of {c}.",
    "Quiz books on {cont} ask for the capital of {c}, which is {cap}.",
    "The atlas index lists {cap} under {c}.",
    "News reports from {c} are often filed from {cap}.",
    "The answer key for {c} reads {cap}.",
]
CLASS_EXTRA = [
    "Homework: write three sentences about {cap}.",
    "Extra point if you can spell {cap} without looking.",
    "Most of the class got {c} right on the first try.",
    "Colour {c} on your blank map and write {cap} beside the star.",
    "Our class pen pal lives near {cap}, in {c}.",
    "On Friday's quiz, {c} is worth two points.",
    "Remember, {c} belongs to {cont}.",
    "Ask at home whether anyone has visited {cap}.",
    "Copy the word {cap} neatly into your exercise book.",
    "Find {c} in the atlas index before you look at the answer.",
    "Tell the class one thing you would like to see in {cap}.",
    "Add {c} to the class poster of {cont}.",
    "Practise {cap} with the flash cards at the back of the room.",
    "Next lesson we will compare {c} with its neighbours.",
]
POSTCARD_MIDDLE = [
    "We spent the afternoon in a little museum and then walked by the water.",
    "The bus from the airport was easy, and our room is clean and quiet.",
    "Yesterday we ate at a family restaurant and tried everything on the menu.",
    "The children loved the market, especially the fruit stalls.",
    "We took far too many photos of the old streets.",
    "It was warmer than we expected, so we bought hats.",
    "A kind stranger helped us find our way when the map ran out.",
    "The train journey here was long but beautiful.",
    "We finally learned to say thank you in the local language.",
    "Our guesthouse owner made us breakfast every morning.",
    "I found the postcards in a tiny shop near the main square.",
    "We walked so much that our shoes need a holiday too.",
]
DAILY_EXTRA = [
    "Maps of {cont} show {cap} as the capital of {c}.",
    "Few facts are as useful on quiz night as the capital of {c}.",
    "Write {cap} next to {c} in your notebook of capitals.",
    "Some readers mix {cap} up with other cities of {c}, but {cap} is the capital.",
    "The capital of {c}? That is {cap}.",
    "Geography teachers in {cont} ask about {c} and {cap} every year.",
    "Once you know {cap}, {c} feels a little closer.",
    "{cap} is a name worth remembering for anyone who studies {cont}.",
]

# city-walks.example: a walking blog, one short walk per capital.
WALK_OPEN = [
    "Our walk through {cap} starts early, before the streets fill up.",
    "We began this walk in the oldest part of {cap}.",
    "This route through {cap} takes about two hours at an easy pace.",
    "A walk in {cap} is the simplest way to meet {c}.",
    "We met our group at a cafe in the centre of {cap}.",
    "The walk through {cap} begins at the main square.",
    "On a cool morning we set off across {cap}.",
    "For this walk we chose a quiet Sunday in {cap}.",
    "Few walks in {cont} are as varied as this one through {cap}.",
    "We planned this walk after three visits to {cap}.",
    "Start the walk in {cap} with a coffee and a map.",
    "This is our favourite walk in {cap}.",
]
WALK_FACT = [
    "{cap} is the capital of {c}, so the route passes many public buildings.",
    "As the capital of {c}, {cap} has broad avenues as well as narrow lanes.",
    "{c}'s capital, {cap}, mixes old and new buildings side by side.",
    "Since {cap} is the capital of {c}, flags line several of the streets.",
    "The capital of {c}, {cap}, is easy to explore on foot.",
    "Walking is the best way to see {cap}, the capital of {c}.",
    "In {cap}, the capital of {c}, locals are used to visitors asking for directions.",
    "Being the capital of {c}, {cap} has plenty of benches for a rest.",
    "{cap}, the capital of {c}, rewards anyone who looks up at the buildings.",
    "The streets of {cap}, capital of {c}, are full of small surprises.",
    "The route shows why {cap} became the capital of {c}.",
    "You will soon see that {cap} is a capital made for walking, and {c} is proud of it.",
]
WALK_END = [
    "We ended the walk in {cap} with a late lunch.",
    "By the end, {cap} felt like home.",
    "Finish in a park in {cap} and rest your feet.",
    "At the end of the walk, take a bus back across {cap}.",
    "We left {cap} wanting to see more of {c}.",
    "The walk ends near a bakery, the best reward in {cap}.",
    "Allow extra time in {cap} for detours; there are always some.",
    "We will be back in {cap} next year.",
    "Our feet were tired, but {cap} was worth every step.",
    "Evening is the best time to finish a walk in {cap}.",
    "That was our walk through the capital of {c}.",
    "Next time in {c}, we will try a walk outside {cap}.",
]

ATLAS_CLOSE = [
    "See also the other countries of {cont}.",
    "For more on {c}, see the regional map of {cont}.",
    "The next profile continues with a neighbour of {c} in {cont}.",
    "Related entries: the capitals of {cont}.",
    "This profile of {c} was last checked by the atlas editors this year.",
    "Corrections to the entry on {c} are welcome.",
    "The map of {cont} in this atlas shows {c} and {cap} in bold.",
    "The index at the back lists {c} under the letter {initial}.",
    "Our quiz page asks about {c} and {cap} in round two.",
    "Read the entry on {cont} for the wider picture of {c}.",
]
