"""HTML fragment to the plain-text part of emails."""

from dossier.render.text import html_to_text


def test_paragraphs_lists_tables_and_entities():
    html = (
        "<p>Dupont &amp; Fils &lt;SARL&gt;, bonjour.</p>"
        "<table><tr><th>Facture</th><th class=num>Montant</th><th class=num>Reste</th></tr>"
        "<tr><td>F1</td><td class=num>1 000,00 €</td><td class=num>10,00 €</td></tr>"
        "<tr class=total><td colspan=2>Total restant dû en principal</td><td class=num>10,00 €</td></tr></table>"
        "<ul><li>un</li><li>deux</li></ul><div><img src='data:x' alt='QR'><p>fin<br>ligne</p></div>"
    )
    assert html_to_text(html) == (
        "Dupont & Fils <SARL>, bonjour.\n\n"
        "Facture               Montant    Reste\n"
        "F1                 1 000,00 €  10,00 €\n"
        "Total restant dû en principal  10,00 €\n\n"
        "- un\n- deux\n\n"
        "fin\nligne\n"
    )


def test_long_paragraphs_wrap_at_76_columns():
    text = html_to_text("<p>" + "mot " * 60 + "</p>")
    assert max(len(line) for line in text.splitlines()) <= 76
    assert text.split() == ["mot"] * 60
