# language: de
@smoke
Funktionalität: Suchen im Shop
  Deutsche Schlüsselwörter, die Schritte selbst bleiben wie definiert.

  Szenario: Eine Suche findet den Becher
    Angenommen I open "/index.html"
    Wenn I fill "#search" with "mug"
    Und I press "Enter" in "#search"
    Dann "#results" should contain "1 result(s)"
