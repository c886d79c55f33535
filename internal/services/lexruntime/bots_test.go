package lexruntime_test

// The bots the conversation tests talk to: OrderFlowers (the Lex
// blueprint), a BookTrip-style bot (BookHotel, BookCar) and their Spanish
// equivalent, as LEX-format exports imported through StartImport.

func flowerTypes() obj {
	return slotType("FlowerTypes", []string{"roses", "rose"}, []string{"tulips", "tulip"}, []string{"lilies", "lily"})
}

func orderFlowersIntent() obj {
	return obj{
		"name": "OrderFlowers",
		"sampleUtterances": []string{"I would like to pick up flowers", "I would like to order some flowers", "I want to order {FlowerType}",
			"order flowers", "can I get some {FlowerType}", "send flowers", "I want {FlowerType} on {PickupDate}"},
		"slots": []any{
			slot("FlowerType", "FlowerTypes", 1, true, "What type of flowers would you like to order?"),
			slot("PickupDate", "AMAZON.DATE", 2, true, "What day do you want the {FlowerType} to be picked up?"),
			slot("PickupTime", "AMAZON.TIME", 3, true, "At what time do you want the {FlowerType} to be picked up?"),
		},
		"confirmationPrompt": prompt(2, "Okay, your {FlowerType} will be ready for pickup by {PickupTime} on {PickupDate}.  Does this sound okay?"),
		"rejectionStatement": statement("Okay, I will not place your order."),
	}
}

const (
	clarify = "I didn't understand you, what would you like to do?"
	abort   = "Sorry, I am not able to assist at this time"
)

func orderFlowersBot(name string) botDoc {
	return newBot(name, "en-US", []obj{orderFlowersIntent()}, []obj{flowerTypes()}).with(obj{
		"clarificationPrompt": prompt(2, clarify),
		"abortStatement":      statement(abort),
		"voiceId":             "Salli",
	})
}

func bookTripBot(name string) botDoc {
	hotel := obj{
		"name": "BookHotel",
		"sampleUtterances": []string{"book a hotel", "I want to make hotel reservations", "book a {Nights} night stay in {Location}",
			"I need a hotel room in {Location}", "reserve a room for {Nights} nights", "book a hotel in {Location} on {CheckInDate}"},
		"slots": []any{
			slot("Location", "AMAZON.City", 1, true, "What city will you be staying in?"),
			slot("CheckInDate", "AMAZON.DATE", 2, true, "What day do you want to check in?"),
			slot("Nights", "AMAZON.NUMBER", 3, true, "How many nights will you be staying?"),
			slot("RoomType", "RoomTypes", 4, true, "What type of room would you like, queen, king or deluxe?"),
		},
		"confirmationPrompt": prompt(2, "Okay, I have you down for a {Nights} night stay in {Location} starting {CheckInDate}.  Shall I book the reservation?"),
		"rejectionStatement": statement("Okay, I have cancelled your reservation in progress."),
	}
	car := obj{
		"name": "BookCar",
		"sampleUtterances": []string{"book a car", "reserve a car", "make a car reservation", "I need a rental car in {PickUpCity}",
			"rent a car on {PickUpDate}", "I want to rent a car"},
		"slots": []any{
			slot("PickUpCity", "AMAZON.City", 1, true, "In what city do you need to rent a car?"),
			slot("PickUpDate", "AMAZON.DATE", 2, true, "What day do you want to start your rental?"),
			slot("ReturnDate", "AMAZON.DATE", 3, true, "What day do you want to return the car?"),
			slot("DriverAge", "AMAZON.NUMBER", 4, true, "How old is the driver for this rental?"),
			slot("CarType", "CarTypes", 5, true, "What type of car would you like to rent?  Our most popular options are economy, midsize, and luxury"),
		},
		"confirmationPrompt": prompt(2, "Okay, I have you down for a {CarType} rental in {PickUpCity} from {PickUpDate} to {ReturnDate}.  Should I book the reservation?"),
		"rejectionStatement": statement("Okay, I have cancelled your reservation in progress."),
	}
	return newBot(name, "en-US", []obj{hotel, car}, []obj{
		slotType("RoomTypes", []string{"queen"}, []string{"king"}, []string{"deluxe"}),
		slotType("CarTypes", []string{"economy", "compact"}, []string{"midsize", "standard"}, []string{"luxury", "premium"}),
	}).with(obj{"clarificationPrompt": prompt(2, clarify), "abortStatement": statement(abort)})
}

const (
	aclarar  = "No te he entendido. ¿Qué te gustaría hacer?"
	abortar  = "Lo siento, ahora no puedo ayudarte."
	rechazar = "De acuerdo, no haré el pedido."
)

// viajesFlores is the Spanish equivalent: PedirFlores (with confirmation)
// and ReservarHotel, es-ES.
func viajesFloresBot(name string) botDoc {
	flores := obj{
		"name": "PedirFlores",
		"sampleUtterances": []string{"quiero pedir flores", "me gustaría encargar unas flores", "quiero encargar {TipoFlor}",
			"pedir flores", "quiero unas {TipoFlor}", "mandar flores", "quiero {TipoFlor} para el {FechaRecogida}"},
		"slots": []any{
			slot("TipoFlor", "TiposFlor", 1, true, "¿Qué tipo de flores quieres encargar?"),
			slot("FechaRecogida", "AMAZON.DATE", 2, true, "¿Qué día quieres recoger las {TipoFlor}?"),
			slot("HoraRecogida", "AMAZON.TIME", 3, true, "¿A qué hora quieres recoger las {TipoFlor}?"),
		},
		"confirmationPrompt": prompt(2, "Vale, tus {TipoFlor} estarán listas a las {HoraRecogida} del {FechaRecogida}. ¿Te parece bien?"),
		"rejectionStatement": statement(rechazar),
	}
	hotel := obj{
		"name": "ReservarHotel",
		"sampleUtterances": []string{"quiero reservar un hotel", "reservar una habitación", "necesito un hotel en {Ciudad}",
			"resérvame una habitación para {Noches} noches", "quiero una habitación en {Ciudad} el {FechaEntrada}", "buscar hotel"},
		"slots": []any{
			slot("Ciudad", "AMAZON.City", 1, true, "¿En qué ciudad te vas a alojar?"),
			slot("FechaEntrada", "AMAZON.DATE", 2, true, "¿Qué día quieres hacer el check-in?"),
			slot("Noches", "AMAZON.NUMBER", 3, true, "¿Cuántas noches te quedarás?"),
		},
		"confirmationPrompt": prompt(2, "Tengo una reserva de {Noches} noches en {Ciudad} desde el {FechaEntrada}. ¿La confirmo?"),
		"rejectionStatement": statement("De acuerdo, he cancelado la reserva."),
	}
	return newBot(name, "es-ES", []obj{flores, hotel}, []obj{
		slotType("TiposFlor", []string{"rosas", "rosa"}, []string{"tulipanes", "tulipán"}, []string{"lirios", "lirio"}),
	}).with(obj{"clarificationPrompt": prompt(2, aclarar), "abortStatement": statement(abortar)})
}
