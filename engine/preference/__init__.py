"""The human preference loop: candidate answers, viewers' votes, a reward ranking, a nudge.

``prompts`` holds the questions with their candidate answers (the talk's two sets, and
answers sampled from the chat model), ``votes`` keeps every viewer's ranking in SQLite,
``bradley_terry`` turns the votes into a ranking with how sure it is, and ``dpo`` moves the
chat model toward the answers people preferred.
"""
