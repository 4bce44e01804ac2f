"""The lexicon and inflection tables of Synthdeutsch (``nmt.corpora.synthetic``): nouns with gender and
plural, verbs with their frames, particles, participles and auxiliaries, adjectives, adverbs, prepositions
with their case, conjunctions, pronouns, determiners, and the article and ending tables the renderer
declines with. Words are lowercase ASCII (umlauts as ae/oe/ue, sharp s as ss)."""

from __future__ import annotations

from collections import namedtuple

Noun = namedtuple("Noun", "en en_pl de de_pl g weak cls")  # cls: p person, a animal, t thing
Verb = namedtuple("Verb", "en en_prt en_pp prt inf s3 pp aux frame")  # frame: i, t, d (ditransitive), c (that)
Word = namedtuple("Word", "en de tag", defaults=("",))  # tag: adverb tenses, preposition case, "," coordinator
Pron = namedtuple("Pron", "en obj de acc dat person")  # person: 0 i, 1 you, 2 he/she/it, 3 we, 4 they
Det = namedtuple("Det", "en en_pl kind de")  # kind: def | dies (der-words) | ein (ein-words) | num


def s_ending(w: str) -> str:
    """English -s: third person singular of a verb, regular plural of a noun."""
    if w.endswith(("s", "x", "z", "ch", "sh", "o")):
        return w + "es"
    return w[:-1] + "ies" if w.endswith("y") and w[-2] not in "aeiou" else w + "s"


def _nouns(cls: str, text: str) -> list:  # en[=plural]:de:de_plural:gender (M: weak masculine)
    entries = (e.replace("=", ":", 1).split(":") if "=" in e else [e.split(":")[0], ""] + e.split(":")[1:]
               for e in text.split())
    return [Noun(en, en_pl or s_ending(en), de, pl, g.lower(), g == "M", cls) for en, en_pl, de, pl, g in entries]


def _verbs(frame: str, text: str) -> list:  # en[_particle]:en_participle:[particle_]inf:3sg:participle:aux
    return [Verb(*en.partition("_")[::2], en_pp, *inf.rpartition("_")[::2], s3, pp, aux, frame)
            for en, en_pp, inf, s3, pp, aux in (e.split(":") for e in text.split())]


def _words(text: str) -> list:
    return [Word(*e.replace("_", " ").split(":")) for e in text.split()]


PERSONS = _nouns("p", """man=men:mann:maenner:m woman=women:frau:frauen:f child=children:kind:kinder:n
boy:junge:jungen:M girl:maedchen:maedchen:n teacher:lehrer:lehrer:m student:student:studenten:M doctor:arzt:aerzte:m
farmer:bauer:bauern:M king:koenig:koenige:m queen:koenigin:koeniginnen:f friend:freund:freunde:m
neighbor:nachbar:nachbarn:M baker:baecker:baecker:m chef:koch:koeche:m soldier:soldat:soldaten:M
driver:fahrer:fahrer:m painter:maler:maler:m singer:saenger:saenger:m sister:schwester:schwestern:f
brother:bruder:brueder:m mother:mutter:muetter:f father:vater:vaeter:m daughter:tochter:toechter:f son:sohn:soehne:m
aunt:tante:tanten:f uncle:onkel:onkel:m guest:gast:gaeste:m nurse:pflegerin:pflegerinnen:f
thief=thieves:dieb:diebe:m judge:richter:richter:m poet:dichter:dichter:m lawyer:anwalt:anwaelte:m
waiter:kellner:kellner:m hunter:jaeger:jaeger:m pupil:schuelerin:schuelerinnen:f prince:prinz:prinzen:M
princess:prinzessin:prinzessinnen:f""")
ANIMALS = _nouns("a", """dog:hund:hunde:m cat:katze:katzen:f horse:pferd:pferde:n bird:vogel:voegel:m
cow:kuh:kuehe:f mouse=mice:maus:maeuse:f pig:schwein:schweine:n goat:ziege:ziegen:f wolf=wolves:wolf:woelfe:m
fox:fuchs:fuechse:m bear:baer:baeren:M rabbit:hase:hasen:M duck:ente:enten:f owl:eule:eulen:f
snake:schlange:schlangen:f lion:loewe:loewen:M donkey:esel:esel:m frog:frosch:froesche:m chicken:huhn:huehner:n
bee:biene:bienen:f monkey:affe:affen:M elephant:elefant:elefanten:M tiger:tiger:tiger:m""")
THINGS = _nouns("t", """book:buch:buecher:n ball:ball:baelle:m house:haus:haeuser:n car:auto:autos:n
table:tisch:tische:m chair:stuhl:stuehle:m door:tuer:tueren:f window:fenster:fenster:n bread:brot:brote:n
apple:apfel:aepfel:m letter:brief:briefe:m cup:tasse:tassen:f glass:glas:glaeser:n key:schluessel:schluessel:m
hat:hut:huete:m shoe:schuh:schuhe:m bag:tasche:taschen:f box:kiste:kisten:f bottle:flasche:flaschen:f
flower:blume:blumen:f tree:baum:baeume:m stone:stein:steine:m picture:bild:bilder:n song:lied:lieder:n
story:geschichte:geschichten:f newspaper:zeitung:zeitungen:f clock:uhr:uhren:f lamp:lampe:lampen:f bed:bett:betten:n
boat:boot:boote:n train:zug:zuege:m bicycle:fahrrad:fahrraeder:n ship:schiff:schiffe:n garden:garten:gaerten:m
street:strasse:strassen:f city:stadt:staedte:f village:dorf:doerfer:n river:fluss:fluesse:m mountain:berg:berge:m
forest:wald:waelder:m school:schule:schulen:f church:kirche:kirchen:f kitchen:kueche:kuechen:f room:zimmer:zimmer:n
bridge:bruecke:bruecken:f castle:schloss:schloesser:n market:markt:maerkte:m lake:see:seen:m island:insel:inseln:f
coat:mantel:maentel:m ring:ring:ringe:m knife=knives:messer:messer:n spoon:loeffel:loeffel:m plate:teller:teller:m
egg:ei:eier:n cake:kuchen:kuchen:m soup:suppe:suppen:f pen:stift:stifte:m map:karte:karten:f
gift:geschenk:geschenke:n word:wort:woerter:n shirt:hemd:hemden:n dress:kleid:kleider:n candle:kerze:kerzen:f
mirror:spiegel:spiegel:m basket:korb:koerbe:m pot:topf:toepfe:m wall:wand:waende:f tower:turm:tuerme:m""")
INTRANS = _verbs("i", """sleep:slept:schlafen:schlaeft:geschlafen:h laugh:laughed:lachen:lacht:gelacht:h
run:run:laufen:laeuft:gelaufen:s swim:swum:schwimmen:schwimmt:geschwommen:s sing:sung:singen:singt:gesungen:h
dance:danced:tanzen:tanzt:getanzt:h cry:cried:weinen:weint:geweint:h wait:waited:warten:wartet:gewartet:h
work:worked:arbeiten:arbeitet:gearbeitet:h play:played:spielen:spielt:gespielt:h bark:barked:bellen:bellt:gebellt:h
come:come:kommen:kommt:gekommen:s go:gone:gehen:geht:gegangen:s jump:jumped:springen:springt:gesprungen:s
fall:fallen:fallen:faellt:gefallen:s stay:stayed:bleiben:bleibt:geblieben:s live:lived:leben:lebt:gelebt:h
arrive:arrived:an_kommen:kommt:gekommen:s get_up:got:auf_stehen:steht:gestanden:s
fall_asleep:fallen:ein_schlafen:schlaeft:geschlafen:s leave:left:weg_gehen:geht:gegangen:s
come_back:come:zurueck_kommen:kommt:gekommen:s go_out:gone:aus_gehen:geht:gegangen:s
wake_up:woken:auf_wachen:wacht:gewacht:s set_off:set:los_fahren:faehrt:gefahren:s""")
TRANS = _verbs("t", """see:seen:sehen:sieht:gesehen:h find:found:finden:findet:gefunden:h
buy:bought:kaufen:kauft:gekauft:h sell:sold:verkaufen:verkauft:verkauft:h read:read:lesen:liest:gelesen:h
write:written:schreiben:schreibt:geschrieben:h carry:carried:tragen:traegt:getragen:h
hold:held:halten:haelt:gehalten:h take:taken:nehmen:nimmt:genommen:h eat:eaten:essen:isst:gegessen:h
drink:drunk:trinken:trinkt:getrunken:h love:loved:lieben:liebt:geliebt:h hear:heard:hoeren:hoert:gehoert:h
visit:visited:besuchen:besucht:besucht:h meet:met:treffen:trifft:getroffen:h paint:painted:malen:malt:gemalt:h
wash:washed:waschen:waescht:gewaschen:h open:opened:oeffnen:oeffnet:geoeffnet:h
close:closed:schliessen:schliesst:geschlossen:h build:built:bauen:baut:gebaut:h
catch:caught:fangen:faengt:gefangen:h need:needed:brauchen:braucht:gebraucht:h
draw:drawn:zeichnen:zeichnet:gezeichnet:h cook:cooked:kochen:kocht:gekocht:h kiss:kissed:kuessen:kuesst:gekuesst:h
know:known:kennen:kennt:gekannt:h call_up:called:an_rufen:ruft:gerufen:h pick_up:picked:ab_holen:holt:geholt:h
clean_up:cleaned:auf_raeumen:raeumt:geraeumt:h look_up:looked:nach_schlagen:schlaegt:geschlagen:h
turn_off:turned:aus_machen:macht:gemacht:h throw_away:thrown:weg_werfen:wirft:geworfen:h
write_down:written:auf_schreiben:schreibt:geschrieben:h invite:invited:ein_laden:laedt:geladen:h
take_along:taken:mit_nehmen:nimmt:genommen:h bring_along:brought:mit_bringen:bringt:gebracht:h""")
DITRANS = _verbs("d", """give:given:geben:gibt:gegeben:h show:shown:zeigen:zeigt:gezeigt:h
bring:brought:bringen:bringt:gebracht:h send:sent:schicken:schickt:geschickt:h
tell:told:erzaehlen:erzaehlt:erzaehlt:h offer:offered:an_bieten:bietet:geboten:h lend:lent:leihen:leiht:geliehen:h
hand:handed:reichen:reicht:gereicht:h""")
COMP = _verbs("c", """say:said:sagen:sagt:gesagt:h think:thought:denken:denkt:gedacht:h
believe:believed:glauben:glaubt:geglaubt:h hope:hoped:hoffen:hofft:gehofft:h notice:noticed:merken:merkt:gemerkt:h
dream:dreamt:traeumen:traeumt:getraeumt:h forget:forgotten:vergessen:vergisst:vergessen:h""")
ADJS = _words("""big:gross small:klein old:alt young:jung new:neu good:gut bad:schlecht beautiful:schoen
ugly:haesslich long:lang short:kurz red:rot blue:blau green:gruen yellow:gelb black:schwarz white:weiss brown:braun
gray:grau happy:froh sad:traurig tired:muede hungry:hungrig rich:reich poor:arm clever:klug stupid:dumm
friendly:freundlich nice:nett strange:seltsam quiet:leise loud:laut fast:schnell slow:langsam heavy:schwer
light:leicht warm:warm cold:kalt hot:heiss tidy:ordentlich dirty:schmutzig wild:wild brave:mutig lazy:faul
famous:beruehmt strong:stark weak:schwach sweet:suess empty:leer full:voll soft:weich hard:hart round:rund wet:nass
proud:stolz""")
ADVS = _words("""today:heute:pfw now:jetzt:pw often:oft:pfw sometimes:manchmal:pfw always:immer:pfw again:wieder:pfw
soon:bald:w here:hier:pfw there:dort:pfw yesterday:gestern:f tomorrow:morgen:w later:spaeter:w already:schon:f
finally:endlich:fw quickly:schnell:pfw""")
PREPS = _words("""with:mit:dat without:ohne:acc for:fuer:acc from:von:dat near:bei:dat behind:hinter:dat in:in:dat
on:auf:dat under:unter:dat through:durch:acc against:gegen:acc around:um:acc""")
CONJS = _words("""because:weil although:obwohl while:waehrend when:wenn if:falls before:bevor after:nachdem
until:bis so_that:damit""")
COORDS = _words("and:und but:aber:, or:oder")
PRONOUNS = [Pron(*e.split(":")[:5], int(e[-1])) for e in """i:me:ich:mich:mir:0 you:you:du:dich:dir:1
he:him:er:ihn:ihm:2 she:her:sie:sie:ihr:2 it:it:es:es:ihm:2 we:us:wir:uns:uns:3 they:them:sie:sie:ihnen:4""".split()]
NUMBERS = "two:zwei three:drei four:vier five:fuenf six:sechs seven:sieben eight:acht nine:neun ten:zehn".split()
DETS = {"the": Det("the", "the", "def", ""), "a": Det("a", "", "ein", "ein"), "no": Det("no", "no", "ein", "kein"),
        "this": Det("this", "these", "dies", "dies"), "every": Det("every", "", "dies", "jed"),
        **{e: Det(e, e, "ein", d) for e, d in (("my", "mein"), ("his", "sein"), ("our", "unser"), ("your", "dein"))},
        **{e: Det("", e, "num", d) for e, d in (x.split(":") for x in NUMBERS)}}
NOUNS, ANIMATE, VERBS = PERSONS + ANIMALS + THINGS, PERSONS + ANIMALS, INTRANS + TRANS + DITRANS + COMP
STRONG = {"nom": dict(m="er", f="e", n="es", p="e"), "acc": dict(m="en", f="e", n="es", p="e"),
          "dat": dict(m="em", f="er", n="em", p="en")}
DEF = {"nom": dict(m="der", f="die", n="das", p="die"), "acc": dict(m="den", f="die", n="das", p="die"),
       "dat": dict(m="dem", f="der", n="dem", p="den")}
AUX = {"h": "habe hast hat haben haben", "s": "bin bist ist sind sind", "will": "werde wirst wird werden werden",
       "can": "kann kannst kann koennen koennen", "must": "muss musst muss muessen muessen"}
TENSES = ("pres", "perf", "will", "can", "must")
LEXICON_SIZE = {"nouns": len(NOUNS), "verbs": len(VERBS), "adjectives": len(ADJS), "adverbs": len(ADVS),
                "prepositions": len(PREPS), "conjunctions": len(CONJS) + len(COORDS), "determiners": len(DETS),
                "pronouns": len(PRONOUNS)}


def lexicon() -> dict[str, set[str]]:
    """Dictionary forms per language (singular nouns, infinitives, adjective stems, function words);
    the corpus also holds their inflected forms."""
    en = {w for e in NOUNS + ADJS + ADVS + PREPS + CONJS + COORDS + PRONOUNS for w in e.en.split()}
    en |= {w for v in VERBS for w in (v.en, v.en_prt) if w} | {d.en or d.en_pl for d in DETS.values()}
    de = {e.de for e in NOUNS + ADJS + ADVS + PREPS + CONJS + COORDS + PRONOUNS} | {v.prt + v.inf for v in VERBS}
    de |= {"der", "dieser", "jeder", "ein"} | {d.de for d in DETS.values() if d.kind != "def"} - {"dies", "jed"}
    return {"en": en | {"do", "have", "will", "can", "must", "not", "who", "which", "that", "to", ",", "."},
            "de": de | {"haben", "sein", "werden", "koennen", "muessen", "nicht", "dass", ",", "."}}
