package builtin

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The embedded gazetteers are deliberately small (see README.md in the
// nlu package for coverage). Each line is "English value;Spanish
// value;alias,alias…". An alias starting with '^' matches only when typed
// in capitals (state abbreviations such as "OR", "IN", "ME").
var gazData = map[string]string{
	"city": `New York;Nueva York;new york city,nyc,manhattan
Los Angeles;Los Ángeles;^LA
Chicago;Chicago;
Houston;Houston;
Phoenix;Phoenix;
Philadelphia;Filadelfia;philly
San Antonio;San Antonio;
San Diego;San Diego;
Dallas;Dallas;
San Jose;San José;
Austin;Austin;
Seattle;Seattle;
Denver;Denver;
Boston;Boston;
Las Vegas;Las Vegas;vegas
Miami;Miami;
Atlanta;Atlanta;
Orlando;Orlando;
Washington;Washington;washington dc,^DC
San Francisco;San Francisco;^SF,frisco
Portland;Portland;
Nashville;Nashville;
New Orleans;Nueva Orleans;
Detroit;Detroit;
Minneapolis;Minneapolis;
Baltimore;Baltimore;
Salt Lake City;Salt Lake City;
Honolulu;Honolulu;
Toronto;Toronto;
Vancouver;Vancouver;
Montreal;Montreal;
London;Londres;
Manchester;Mánchester;
Edinburgh;Edimburgo;
Dublin;Dublín;
Paris;París;
Berlin;Berlín;
Munich;Múnich;
Rome;Roma;
Milan;Milán;
Venice;Venecia;
Florence;Florencia;
Amsterdam;Ámsterdam;
Brussels;Bruselas;
Lisbon;Lisboa;
Porto;Oporto;
Vienna;Viena;
Prague;Praga;
Zurich;Zúrich;
Geneva;Ginebra;
Athens;Atenas;
Istanbul;Estambul;
Madrid;Madrid;
Barcelona;Barcelona;
Valencia;Valencia;
Seville;Sevilla;
Malaga;Málaga;
Bilbao;Bilbao;
Zaragoza;Zaragoza;
Granada;Granada;
Palma;Palma de Mallorca;palma de mallorca
Mexico City;Ciudad de México;cdmx,mexico df,^DF
Guadalajara;Guadalajara;
Monterrey;Monterrey;
Cancun;Cancún;
Bogota;Bogotá;
Medellin;Medellín;
Lima;Lima;
Santiago;Santiago;santiago de chile
Buenos Aires;Buenos Aires;
Caracas;Caracas;
Quito;Quito;
Montevideo;Montevideo;
San Juan;San Juan;
Havana;La Habana;la habana,habana
Tokyo;Tokio;tokio
Beijing;Pekín;pekin
Shanghai;Shanghái;
Sydney;Sídney;
Melbourne;Melbourne;
Brisbane;Brisbane;
Perth;Perth;
Auckland;Auckland;
Dubai;Dubái;
Singapore;Singapur;singapur
Hong Kong;Hong Kong;
Seoul;Seúl;
Mumbai;Bombay;bombay
Delhi;Delhi;new delhi,nueva delhi
Cairo;El Cairo;el cairo
Cape Town;Ciudad del Cabo;ciudad del cabo
Moscow;Moscú;`,
	"country": `United States;Estados Unidos;usa,^US,america,united states of america,the united states,eeuu,ee uu,estados unidos de america
Canada;Canadá;
Mexico;México;
United Kingdom;Reino Unido;uk,britain,great britain,england,inglaterra,gran bretaña
Ireland;Irlanda;
France;Francia;
Germany;Alemania;
Spain;España;espana
Portugal;Portugal;
Italy;Italia;
Netherlands;Países Bajos;holland,the netherlands,holanda
Belgium;Bélgica;
Switzerland;Suiza;
Austria;Austria;
Greece;Grecia;
Turkey;Turquía;
Poland;Polonia;
Sweden;Suecia;
Norway;Noruega;
Denmark;Dinamarca;
Finland;Finlandia;
Iceland;Islandia;
Russia;Rusia;
Ukraine;Ucrania;
Czech Republic;República Checa;czechia,chequia
Hungary;Hungría;
Romania;Rumanía;
Croatia;Croacia;
Morocco;Marruecos;
Egypt;Egipto;
South Africa;Sudáfrica;
Nigeria;Nigeria;
Kenya;Kenia;
Israel;Israel;
Saudi Arabia;Arabia Saudita;arabia saudi
United Arab Emirates;Emiratos Árabes Unidos;uae,emirates,emiratos
India;India;
China;China;
Japan;Japón;
South Korea;Corea del Sur;korea,corea
Thailand;Tailandia;
Vietnam;Vietnam;
Indonesia;Indonesia;
Philippines;Filipinas;
Singapore;Singapur;
Australia;Australia;
New Zealand;Nueva Zelanda;
Brazil;Brasil;
Argentina;Argentina;
Chile;Chile;
Colombia;Colombia;
Peru;Perú;
Venezuela;Venezuela;
Ecuador;Ecuador;
Bolivia;Bolivia;
Paraguay;Paraguay;
Uruguay;Uruguay;
Cuba;Cuba;
Dominican Republic;República Dominicana;
Puerto Rico;Puerto Rico;
Guatemala;Guatemala;
Honduras;Honduras;
El Salvador;El Salvador;
Nicaragua;Nicaragua;
Costa Rica;Costa Rica;
Panama;Panamá;`,
	"state": `Alabama;Alabama;^AL
Alaska;Alaska;^AK
Arizona;Arizona;^AZ
Arkansas;Arkansas;^AR
California;California;^CA,cali
Colorado;Colorado;^CO
Connecticut;Connecticut;^CT
Delaware;Delaware;^DE
Florida;Florida;^FL
Georgia;Georgia;^GA
Hawaii;Hawái;^HI,hawai
Idaho;Idaho;^ID
Illinois;Illinois;^IL
Indiana;Indiana;^IN
Iowa;Iowa;^IA
Kansas;Kansas;^KS
Kentucky;Kentucky;^KY
Louisiana;Luisiana;^LA
Maine;Maine;^ME
Maryland;Maryland;^MD
Massachusetts;Massachusetts;^MA
Michigan;Míchigan;^MI
Minnesota;Minnesota;^MN
Mississippi;Misisipi;^MS
Missouri;Misuri;^MO
Montana;Montana;^MT
Nebraska;Nebraska;^NE
Nevada;Nevada;^NV
New Hampshire;Nuevo Hampshire;^NH
New Jersey;Nueva Jersey;^NJ
New Mexico;Nuevo México;^NM
New York;Nueva York;^NY,new york state
North Carolina;Carolina del Norte;^NC
North Dakota;Dakota del Norte;^ND
Ohio;Ohio;^OH
Oklahoma;Oklahoma;^OK
Oregon;Oregón;^OR
Pennsylvania;Pensilvania;^PA
Rhode Island;Rhode Island;^RI
South Carolina;Carolina del Sur;^SC
South Dakota;Dakota del Sur;^SD
Tennessee;Tennessee;^TN
Texas;Texas;^TX
Utah;Utah;^UT
Vermont;Vermont;^VT
Virginia;Virginia;^VA
Washington;Washington;^WA,washington state
West Virginia;Virginia Occidental;^WV
Wisconsin;Wisconsin;^WI
Wyoming;Wyoming;^WY
District of Columbia;Distrito de Columbia;^DC`,
	"firstname": `James;James;
John;John;
Robert;Robert;
Michael;Michael;mike
William;William;bill,will
David;David;dave
Richard;Richard;rick
Joseph;Joseph;joe
Thomas;Thomas;tom
Charles;Charles;charlie
Christopher;Christopher;chris
Daniel;Daniel;dan
Matthew;Matthew;matt
Anthony;Anthony;tony
Mark;Mark;
Steven;Steven;steve
Paul;Paul;
Andrew;Andrew;andy
Joshua;Joshua;josh
Kevin;Kevin;
Brian;Brian;
George;George;
Edward;Edward;ed
Peter;Peter;pete
Sam;Sam;samuel
Jack;Jack;
Oliver;Oliver;
Harry;Harry;
Noah;Noah;
Liam;Liam;
Ethan;Ethan;
Mary;Mary;
Patricia;Patricia;
Jennifer;Jennifer;jen
Linda;Linda;
Elizabeth;Elizabeth;liz
Barbara;Barbara;
Susan;Susan;
Jessica;Jessica;
Sarah;Sarah;sara
Karen;Karen;
Nancy;Nancy;
Lisa;Lisa;
Emily;Emily;
Emma;Emma;
Olivia;Olivia;
Sophia;Sophia;sofia
Ava;Ava;
Isabella;Isabella;isabel
Mia;Mia;
Charlotte;Charlotte;
Amelia;Amelia;
Grace;Grace;
Anna;Anna;
Kate;Kate;katie
Laura;Laura;
Rachel;Rachel;
Rebecca;Rebecca;
Michelle;Michelle;
Amanda;Amanda;
José;José;jose
Juan;Juan;
Luis;Luis;
Carlos;Carlos;
Jorge;Jorge;
Miguel;Miguel;
Pedro;Pedro;
Pablo;Pablo;
Javier;Javier;
Alejandro;Alejandro;
Manuel;Manuel;
Antonio;Antonio;
Francisco;Francisco;paco
Diego;Diego;
Sergio;Sergio;
Fernando;Fernando;
Andrés;Andrés;
Ricardo;Ricardo;
Raúl;Raúl;
Alberto;Alberto;
Roberto;Roberto;
Eduardo;Eduardo;
Mateo;Mateo;
Santiago;Santiago;
Hugo;Hugo;
Lucas;Lucas;
Martín;Martín;
Álvaro;Álvaro;
María;María;
Carmen;Carmen;
Ana;Ana;
Lucía;Lucía;
Laura;Laura;
Marta;Marta;
Paula;Paula;
Elena;Elena;
Cristina;Cristina;
Isabel;Isabel;
Sofía;Sofía;
Valentina;Valentina;
Camila;Camila;
Daniela;Daniela;
Gabriela;Gabriela;
Fernanda;Fernanda;
Lola;Lola;
Pilar;Pilar;
Rosa;Rosa;
Teresa;Teresa;
Julia;Julia;
Clara;Clara;
Andrea;Andrea;
Silvia;Silvia;
Patricia;Patricia;
Alicia;Alicia;`,
	"lastname": `Smith;Smith;
Johnson;Johnson;
Williams;Williams;
Brown;Brown;
Jones;Jones;
Miller;Miller;
Davis;Davis;
Wilson;Wilson;
Anderson;Anderson;
Taylor;Taylor;
Thomas;Thomas;
Moore;Moore;
Jackson;Jackson;
Martin;Martin;
Lee;Lee;
Thompson;Thompson;
White;White;
Harris;Harris;
Clark;Clark;
Lewis;Lewis;
Walker;Walker;
Hall;Hall;
Young;Young;
King;King;
García;García;garcia
Martínez;Martínez;martinez
Rodríguez;Rodríguez;rodriguez
López;López;lopez
González;González;gonzalez
Hernández;Hernández;hernandez
Pérez;Pérez;perez
Sánchez;Sánchez;sanchez
Ramírez;Ramírez;ramirez
Torres;Torres;
Flores;Flores;
Rivera;Rivera;
Gómez;Gómez;gomez
Díaz;Díaz;diaz
Fernández;Fernández;fernandez
Ruiz;Ruiz;
Moreno;Moreno;
Jiménez;Jiménez;jimenez
Álvarez;Álvarez;alvarez
Romero;Romero;
Navarro;Navarro;
Castro;Castro;
Ortiz;Ortiz;
Morales;Morales;
Vargas;Vargas;`,
	"airport": `John F. Kennedy International Airport;Aeropuerto Internacional John F. Kennedy;^JFK,jfk,kennedy airport,jfk airport
LaGuardia Airport;Aeropuerto LaGuardia;^LGA,laguardia,la guardia
Newark Liberty International Airport;Aeropuerto de Newark;^EWR,newark airport
Los Angeles International Airport;Aeropuerto Internacional de Los Ángeles;^LAX,lax
O'Hare International Airport;Aeropuerto O'Hare;^ORD,ohare,o hare
San Francisco International Airport;Aeropuerto de San Francisco;^SFO,sfo
Seattle-Tacoma International Airport;Aeropuerto de Seattle-Tacoma;^SEA,sea-tac,seatac
Hartsfield-Jackson Atlanta International Airport;Aeropuerto de Atlanta;^ATL,atlanta airport
Dallas/Fort Worth International Airport;Aeropuerto de Dallas/Fort Worth;^DFW,dfw
Denver International Airport;Aeropuerto de Denver;^DEN,denver airport
Miami International Airport;Aeropuerto Internacional de Miami;^MIA,miami airport
Boston Logan International Airport;Aeropuerto Logan de Boston;^BOS,logan,logan airport
Heathrow Airport;Aeropuerto de Heathrow;^LHR,heathrow
Gatwick Airport;Aeropuerto de Gatwick;^LGW,gatwick
Charles de Gaulle Airport;Aeropuerto Charles de Gaulle;^CDG,charles de gaulle
Adolfo Suárez Madrid-Barajas Airport;Aeropuerto Adolfo Suárez Madrid-Barajas;^MAD,barajas,madrid barajas
Josep Tarradellas Barcelona-El Prat Airport;Aeropuerto Josep Tarradellas Barcelona-El Prat;^BCN,el prat
Mexico City International Airport;Aeropuerto Internacional de la Ciudad de México;^MEX,benito juarez
El Dorado International Airport;Aeropuerto Internacional El Dorado;^BOG,el dorado
Ezeiza International Airport;Aeropuerto Internacional de Ezeiza;^EZE,ezeiza`,
	"speedunit":  "miles per hour;millas por hora;mph\nkilometers per hour;kilómetros por hora;km/h,kph,kilometres per hour,kilometros por hora\nknots;nudos;knot,nudo\nmeters per second;metros por segundo;m/s,metres per second",
	"weightunit": "pounds;libras;pound,lb,lbs,libra\nkilograms;kilogramos;kilogram,kg,kilo,kilos,kilogramo\ngrams;gramos;gram,g,gramo\nounces;onzas;ounce,oz,onza\ntons;toneladas;ton,tonne,tonnes,tonelada\nstones;stones;stone",
	"color": `red;rojo;roja,rojos,rojas
blue;azul;azules
green;verde;verdes
yellow;amarillo;amarilla,amarillos,amarillas
orange;naranja;anaranjado
purple;morado;morada,violeta,violet
pink;rosa;rosado,rosada
white;blanco;blanca,blancos,blancas
black;negro;negra,negros,negras
brown;marrón;marron,cafe
gray;gris;grey
gold;dorado;golden,dorada`,
}

type gazEntry struct {
	en, es string
	upper  bool // alias must be typed in capitals
}

type gazetteer struct {
	phrases map[string]gazEntry // folded phrase → value
	maxLen  int
}

var gazetteers = map[string]*gazetteer{}

func foldSimple(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r == '\u0303':
			str := b.String()
			if strings.HasSuffix(str, "n") {
				b.Reset()
				b.WriteString(str[:len(str)-1] + "ñ")
			}
		case unicode.Is(unicode.Mn, r), r == '\'', r == '.':
		case r == '/':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func init() {
	for kind, data := range gazData {
		g := &gazetteer{phrases: map[string]gazEntry{}}
		for _, line := range strings.Split(data, "\n") {
			f := strings.SplitN(line, ";", 3)
			if len(f) < 2 {
				continue
			}
			e := gazEntry{en: f[0], es: f[1]}
			names := []string{f[0], f[1]}
			if len(f) == 3 && f[2] != "" {
				names = append(names, strings.Split(f[2], ",")...)
			}
			for _, n := range names {
				ee := e
				if strings.HasPrefix(n, "^") {
					n, ee.upper = n[1:], true
				}
				k := foldSimple(n)
				if _, dup := g.phrases[k]; dup && ee.upper {
					continue
				}
				if _, dup := g.phrases[k]; !dup {
					g.phrases[k] = ee
				}
				g.maxLen = max(g.maxLen, len(strings.Fields(k)))
			}
		}
		gazetteers[kind] = g
	}
}

// Gazetteer returns the canonical values of a gazetteer kind in a
// language (for documentation and tests).
func Gazetteer(kind, lang string) []string {
	g := gazetteers[kind]
	if g == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range g.phrases {
		v := e.en
		if lang == "es" {
			v = e.es
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func gaz(kind string) parser {
	return func(in *Input, i int) (int, string) {
		g := gazetteers[kind]
		for n := min(g.maxLen, len(in.W)-i); n >= 1; n-- {
			k := strings.Join(in.W[i:i+n], " ")
			e, ok := g.phrases[k]
			if !ok {
				continue
			}
			if e.upper {
				raw := strings.Join(in.Raw[i:i+n], "")
				if strings.ToUpper(raw) != raw {
					continue
				}
			}
			if in.c.Lang == "es" {
				return i + n, e.es
			}
			return i + n, e.en
		}
		return i, ""
	}
}
