/* ringgate verification widget. Embedding, attributes, events, theming and
 * CSP: docs/widget.md. Usage, once the business's backend has started a
 * verification and handed the page its id and client token (never an API key):
 *   <script src="https://ringgate.example/widget.js" defer></script>
 *   <ringgate-verify verification-id="vf_…" token="ct_…"></ringgate-verify>
 * or RingGate.mount(element, {verificationId, token}). */
(() => {
  'use strict';
  if (window.customElements && customElements.get('ringgate-verify')) return;
  const script = document.currentScript;
  const DEFAULT_SERVER = script && script.src ? new URL(script.src, location.href).origin : location.origin;

  // Strings by language; {x} are filled in. The browser's languages choose.
  const T = {
    en: {
      callTitle: 'Call this number to verify your phone',
      free: 'The call is free: we hang up before it is answered.',
      scan: 'Scan with your phone to call',
      waiting: 'Waiting for your call',
      left: 'Time left',
      verified: 'Phone number verified',
      expired: 'Time ran out before we could verify your phone.',
      failed: 'We could not verify your phone number.',
      canceled: 'This verification was canceled.',
      retry: 'Try again',
      codeTitle: 'Enter your code',
      sms_otp: 'Enter the {n}-digit code we sent by text to {phone}.',
      voice_otp: 'Enter the {n}-digit code we read out on the call to {phone}.',
      flash_call: 'Enter the last {n} digits of the number that just called {phone}.',
      answer_call: 'We are calling {phone}. Answer the call; you can hang up at once.',
      codeLabel: 'Verification code',
      verify: 'Verify',
      wrong: 'That code is not right. Attempts left: {n}.',
      format: 'The code is {n} digits.',
      resend: 'Send a new code',
      another: 'Try another way',
      wait: 'You can try another way in {n} s.',
      checking: 'Checking…',
      offline: 'Connection lost; still trying.',
      denied: 'This verification link is no longer valid.',
      loading: 'Loading…',
    },
    fr: {
      callTitle: 'Appelez ce numéro pour vérifier votre téléphone',
      free: 'L’appel est gratuit : nous raccrochons avant de décrocher.',
      scan: 'Scannez avec votre téléphone pour appeler',
      waiting: 'En attente de votre appel',
      left: 'Temps restant',
      verified: 'Numéro de téléphone vérifié',
      expired: 'Le temps est écoulé avant que nous puissions vérifier votre téléphone.',
      failed: 'Nous n’avons pas pu vérifier votre numéro.',
      canceled: 'Cette vérification a été annulée.',
      retry: 'Réessayer',
      codeTitle: 'Saisissez votre code',
      sms_otp: 'Saisissez le code à {n} chiffres envoyé par SMS au {phone}.',
      voice_otp: 'Saisissez le code à {n} chiffres lu lors de l’appel au {phone}.',
      flash_call: 'Saisissez les {n} derniers chiffres du numéro qui vient d’appeler le {phone}.',
      answer_call: 'Nous appelons le {phone}. Décrochez ; vous pouvez raccrocher aussitôt.',
      codeLabel: 'Code de vérification',
      verify: 'Vérifier',
      wrong: 'Ce code n’est pas le bon. Essais restants : {n}.',
      format: 'Le code comporte {n} chiffres.',
      resend: 'Envoyer un nouveau code',
      another: 'Essayer autrement',
      wait: 'Vous pourrez essayer autrement dans {n} s.',
      checking: 'Vérification…',
      offline: 'Connexion perdue ; nouvelle tentative.',
      denied: 'Ce lien de vérification n’est plus valide.',
      loading: 'Chargement…',
    },
    es: {
      callTitle: 'Llama a este número para verificar tu teléfono',
      free: 'La llamada es gratis: colgamos antes de contestar.',
      scan: 'Escanea con tu teléfono para llamar',
      waiting: 'Esperando tu llamada',
      left: 'Tiempo restante',
      verified: 'Número de teléfono verificado',
      expired: 'Se acabó el tiempo antes de poder verificar tu teléfono.',
      failed: 'No pudimos verificar tu número de teléfono.',
      canceled: 'Esta verificación se canceló.',
      retry: 'Intentar de nuevo',
      codeTitle: 'Introduce tu código',
      sms_otp: 'Introduce el código de {n} dígitos que enviamos por SMS al {phone}.',
      voice_otp: 'Introduce el código de {n} dígitos que dijimos en la llamada al {phone}.',
      flash_call: 'Introduce los últimos {n} dígitos del número que acaba de llamar al {phone}.',
      answer_call: 'Estamos llamando al {phone}. Contesta; puedes colgar enseguida.',
      codeLabel: 'Código de verificación',
      verify: 'Verificar',
      wrong: 'Ese código no es correcto. Intentos restantes: {n}.',
      format: 'El código tiene {n} dígitos.',
      resend: 'Enviar un código nuevo',
      another: 'Probar de otra forma',
      wait: 'Podrá probar de otra forma en {n} s.',
      checking: 'Comprobando…',
      offline: 'Conexión perdida; reintentando.',
      denied: 'Este enlace de verificación ya no es válido.',
      loading: 'Cargando…',
    },
    de: {
      callTitle: 'Rufen Sie diese Nummer an, um Ihr Telefon zu bestätigen',
      free: 'Der Anruf ist kostenlos: Wir legen vor dem Annehmen auf.',
      scan: 'Zum Anrufen mit dem Telefon scannen',
      waiting: 'Warten auf Ihren Anruf',
      left: 'Verbleibende Zeit',
      verified: 'Telefonnummer bestätigt',
      expired: 'Die Zeit ist abgelaufen, bevor wir Ihr Telefon bestätigen konnten.',
      failed: 'Wir konnten Ihre Telefonnummer nicht bestätigen.',
      canceled: 'Diese Bestätigung wurde abgebrochen.',
      retry: 'Erneut versuchen',
      codeTitle: 'Code eingeben',
      sms_otp: 'Geben Sie den {n}-stelligen Code ein, den wir per SMS an {phone} gesendet haben.',
      voice_otp: 'Geben Sie den {n}-stelligen Code aus dem Anruf an {phone} ein.',
      flash_call: 'Geben Sie die letzten {n} Ziffern der Nummer ein, die gerade {phone} angerufen hat.',
      answer_call: 'Wir rufen {phone} an. Nehmen Sie ab; Sie können sofort auflegen.',
      codeLabel: 'Bestätigungscode',
      verify: 'Bestätigen',
      wrong: 'Dieser Code ist falsch. Verbleibende Versuche: {n}.',
      format: 'Der Code hat {n} Ziffern.',
      resend: 'Neuen Code senden',
      another: 'Anders versuchen',
      wait: 'Sie können es in {n} s anders versuchen.',
      checking: 'Wird geprüft…',
      offline: 'Verbindung unterbrochen; neuer Versuch.',
      denied: 'Dieser Bestätigungslink ist nicht mehr gültig.',
      loading: 'Wird geladen…',
    },
    it: {
      callTitle: 'Chiama questo numero per verificare il tuo telefono',
      free: 'La chiamata è gratuita: riagganciamo prima di rispondere.',
      scan: 'Scansiona con il telefono per chiamare',
      waiting: 'In attesa della tua chiamata',
      left: 'Tempo rimasto',
      verified: 'Numero di telefono verificato',
      expired: 'Il tempo è scaduto prima che potessimo verificare il tuo telefono.',
      failed: 'Non siamo riusciti a verificare il tuo numero di telefono.',
      canceled: 'Questa verifica è stata annullata.',
      retry: 'Riprova',
      codeTitle: 'Inserisci il codice',
      sms_otp: 'Inserisci il codice di {n} cifre che abbiamo inviato via SMS al {phone}.',
      voice_otp: 'Inserisci il codice di {n} cifre letto durante la chiamata al {phone}.',
      flash_call: 'Inserisci le ultime {n} cifre del numero che ha appena chiamato il {phone}.',
      answer_call: 'Stiamo chiamando il {phone}. Rispondi; puoi riagganciare subito.',
      codeLabel: 'Codice di verifica',
      verify: 'Verifica',
      wrong: 'Il codice non è corretto. Tentativi rimasti: {n}.',
      format: 'Il codice è di {n} cifre.',
      resend: 'Invia un nuovo codice',
      another: 'Prova in un altro modo',
      wait: 'Potrai provare in un altro modo tra {n} s.',
      checking: 'Verifica in corso…',
      offline: 'Connessione persa; nuovo tentativo in corso.',
      denied: 'Questo link di verifica non è più valido.',
      loading: 'Caricamento…',
    },
    pt: {
      callTitle: 'Ligue para este número para verificar o seu telemóvel',
      free: 'A chamada é gratuita: desligamos antes de atender.',
      scan: 'Leia com o telemóvel para ligar',
      waiting: 'À espera da sua chamada',
      left: 'Tempo restante',
      verified: 'Número de telefone verificado',
      expired: 'O tempo esgotou-se antes de conseguirmos verificar o seu telemóvel.',
      failed: 'Não conseguimos verificar o seu número de telefone.',
      canceled: 'Esta verificação foi cancelada.',
      retry: 'Tentar novamente',
      codeTitle: 'Introduza o seu código',
      sms_otp: 'Introduza o código de {n} dígitos que enviámos por SMS para {phone}.',
      voice_otp: 'Introduza o código de {n} dígitos lido na chamada para {phone}.',
      flash_call: 'Introduza os últimos {n} dígitos do número que acabou de ligar para {phone}.',
      answer_call: 'Estamos a ligar para {phone}. Atenda; pode desligar de imediato.',
      codeLabel: 'Código de verificação',
      verify: 'Verificar',
      wrong: 'Esse código não está correto. Tentativas restantes: {n}.',
      format: 'O código tem {n} dígitos.',
      resend: 'Enviar um novo código',
      another: 'Tentar de outra forma',
      wait: 'Poderá tentar de outra forma dentro de {n} s.',
      checking: 'A verificar…',
      offline: 'Ligação perdida; a tentar novamente.',
      denied: 'Esta ligação de verificação já não é válida.',
      loading: 'A carregar…',
    },
    'pt-BR': {
      callTitle: 'Ligue para este número para verificar seu celular',
      free: 'A ligação é gratuita: desligamos antes de atender.',
      scan: 'Escaneie com o celular para ligar',
      waiting: 'Aguardando sua ligação',
      left: 'Tempo restante',
      verified: 'Número de telefone verificado',
      expired: 'O tempo acabou antes que pudéssemos verificar seu celular.',
      failed: 'Não conseguimos verificar seu número de telefone.',
      canceled: 'Esta verificação foi cancelada.',
      retry: 'Tentar de novo',
      codeTitle: 'Digite seu código',
      sms_otp: 'Digite o código de {n} dígitos que enviamos por SMS para {phone}.',
      voice_otp: 'Digite o código de {n} dígitos falado na ligação para {phone}.',
      flash_call: 'Digite os últimos {n} dígitos do número que acabou de ligar para {phone}.',
      answer_call: 'Estamos ligando para {phone}. Atenda; você pode desligar em seguida.',
      codeLabel: 'Código de verificação',
      verify: 'Verificar',
      wrong: 'Esse código não está correto. Tentativas restantes: {n}.',
      format: 'O código tem {n} dígitos.',
      resend: 'Enviar um novo código',
      another: 'Tentar de outro jeito',
      wait: 'Você poderá tentar de outro jeito em {n} s.',
      checking: 'Verificando…',
      offline: 'Conexão perdida; tentando de novo.',
      denied: 'Este link de verificação não é mais válido.',
      loading: 'Carregando…',
    },
    nl: {
      callTitle: 'Bel dit nummer om je telefoon te verifiëren',
      free: 'Het gesprek is gratis: we hangen op voordat we opnemen.',
      scan: 'Scan met je telefoon om te bellen',
      waiting: 'We wachten op je oproep',
      left: 'Resterende tijd',
      verified: 'Telefoonnummer geverifieerd',
      expired: 'De tijd was om voordat we je telefoon konden verifiëren.',
      failed: 'We konden je telefoonnummer niet verifiëren.',
      canceled: 'Deze verificatie is geannuleerd.',
      retry: 'Opnieuw proberen',
      codeTitle: 'Voer je code in',
      sms_otp: 'Voer de {n}-cijferige code in die we per sms naar {phone} hebben gestuurd.',
      voice_otp: 'Voer de {n}-cijferige code in die we voorlazen in het gesprek met {phone}.',
      flash_call: 'Voer de laatste {n} cijfers in van het nummer dat {phone} net belde.',
      answer_call: 'We bellen {phone}. Neem op; je kunt meteen ophangen.',
      codeLabel: 'Verificatiecode',
      verify: 'Verifiëren',
      wrong: 'Die code klopt niet. Resterende pogingen: {n}.',
      format: 'De code heeft {n} cijfers.',
      resend: 'Nieuwe code sturen',
      another: 'Op een andere manier proberen',
      wait: 'Over {n} s kun je het op een andere manier proberen.',
      checking: 'Controleren…',
      offline: 'Verbinding verbroken; we proberen het opnieuw.',
      denied: 'Deze verificatielink is niet meer geldig.',
      loading: 'Laden…',
    },
    pl: {
      callTitle: 'Zadzwoń pod ten numer, aby zweryfikować telefon',
      free: 'Połączenie jest bezpłatne: rozłączamy się przed odebraniem.',
      scan: 'Zeskanuj telefonem, aby zadzwonić',
      waiting: 'Czekamy na Twoje połączenie',
      left: 'Pozostały czas',
      verified: 'Numer telefonu zweryfikowany',
      expired: 'Czas minął, zanim zdążyliśmy zweryfikować Twój telefon.',
      failed: 'Nie udało się zweryfikować Twojego numeru telefonu.',
      canceled: 'Ta weryfikacja została anulowana.',
      retry: 'Spróbuj ponownie',
      codeTitle: 'Wpisz kod',
      sms_otp: 'Wpisz {n}-cyfrowy kod wysłany SMS-em na numer {phone}.',
      voice_otp: 'Wpisz {n}-cyfrowy kod odczytany podczas połączenia z numerem {phone}.',
      flash_call: 'Wpisz ostatnie {n} cyfry numeru, który właśnie dzwonił na {phone}.',
      answer_call: 'Dzwonimy na numer {phone}. Odbierz; możesz od razu się rozłączyć.',
      codeLabel: 'Kod weryfikacyjny',
      verify: 'Zweryfikuj',
      wrong: 'Ten kod jest nieprawidłowy. Pozostałe próby: {n}.',
      format: 'Kod ma {n} cyfr.',
      resend: 'Wyślij nowy kod',
      another: 'Spróbuj w inny sposób',
      wait: 'Inny sposób będzie dostępny za {n} s.',
      checking: 'Sprawdzanie…',
      offline: 'Utracono połączenie; ponawiamy próbę.',
      denied: 'Ten link weryfikacyjny jest już nieważny.',
      loading: 'Ładowanie…',
    },
    ru: {
      callTitle: 'Позвоните на этот номер, чтобы подтвердить телефон',
      free: 'Звонок бесплатный: мы сбросим его до ответа.',
      scan: 'Отсканируйте телефоном, чтобы позвонить',
      waiting: 'Ждём вашего звонка',
      left: 'Осталось времени',
      verified: 'Номер телефона подтверждён',
      expired: 'Время истекло, и мы не успели подтвердить ваш телефон.',
      failed: 'Не удалось подтвердить ваш номер телефона.',
      canceled: 'Эта проверка отменена.',
      retry: 'Попробовать снова',
      codeTitle: 'Введите код',
      sms_otp: 'Введите {n}-значный код из SMS, отправленного на {phone}.',
      voice_otp: 'Введите {n}-значный код, продиктованный при звонке на {phone}.',
      flash_call: 'Введите последние {n} цифры номера, который только что звонил на {phone}.',
      answer_call: 'Мы звоним на {phone}. Ответьте на звонок; можно сразу положить трубку.',
      codeLabel: 'Код подтверждения',
      verify: 'Подтвердить',
      wrong: 'Неверный код. Осталось попыток: {n}.',
      format: 'Код состоит из {n} цифр.',
      resend: 'Отправить новый код',
      another: 'Другой способ',
      wait: 'Другой способ будет доступен через {n} с.',
      checking: 'Проверяем…',
      offline: 'Соединение потеряно; пробуем снова.',
      denied: 'Эта ссылка для подтверждения больше не действует.',
      loading: 'Загрузка…',
    },
    uk: {
      callTitle: 'Зателефонуйте на цей номер, щоб підтвердити телефон',
      free: 'Дзвінок безкоштовний: ми скинемо його до відповіді.',
      scan: 'Відскануйте телефоном, щоб зателефонувати',
      waiting: 'Чекаємо на ваш дзвінок',
      left: 'Залишилось часу',
      verified: 'Номер телефону підтверджено',
      expired: 'Час вичерпано, і ми не встигли підтвердити ваш телефон.',
      failed: 'Не вдалося підтвердити ваш номер телефону.',
      canceled: 'Цю перевірку скасовано.',
      retry: 'Спробувати знову',
      codeTitle: 'Введіть код',
      sms_otp: 'Введіть {n}-значний код з SMS, надісланого на {phone}.',
      voice_otp: 'Введіть {n}-значний код, продиктований під час дзвінка на {phone}.',
      flash_call: 'Введіть останні {n} цифри номера, який щойно телефонував на {phone}.',
      answer_call: 'Ми телефонуємо на {phone}. Дайте відповідь; можна одразу покласти слухавку.',
      codeLabel: 'Код підтвердження',
      verify: 'Підтвердити',
      wrong: 'Неправильний код. Залишилось спроб: {n}.',
      format: 'Код складається з {n} цифр.',
      resend: 'Надіслати новий код',
      another: 'Інший спосіб',
      wait: 'Інший спосіб буде доступний через {n} с.',
      checking: 'Перевіряємо…',
      offline: 'З’єднання втрачено; пробуємо знову.',
      denied: 'Це посилання для підтвердження більше не дійсне.',
      loading: 'Завантаження…',
    },
    tr: {
      callTitle: 'Telefonunuzu doğrulamak için bu numarayı arayın',
      free: 'Arama ücretsizdir: açılmadan kapatırız.',
      scan: 'Aramak için telefonunuzla tarayın',
      waiting: 'Aramanız bekleniyor',
      left: 'Kalan süre',
      verified: 'Telefon numarası doğrulandı',
      expired: 'Telefonunuzu doğrulayamadan süre doldu.',
      failed: 'Telefon numaranızı doğrulayamadık.',
      canceled: 'Bu doğrulama iptal edildi.',
      retry: 'Tekrar dene',
      codeTitle: 'Kodunuzu girin',
      sms_otp: '{phone} numarasına SMS ile gönderdiğimiz {n} haneli kodu girin.',
      voice_otp: '{phone} numarasına yaptığımız aramada okunan {n} haneli kodu girin.',
      flash_call: '{phone} numarasını az önce arayan numaranın son {n} hanesini girin.',
      answer_call: '{phone} numarasını arıyoruz. Aramayı açın; hemen kapatabilirsiniz.',
      codeLabel: 'Doğrulama kodu',
      verify: 'Doğrula',
      wrong: 'Bu kod doğru değil. Kalan deneme: {n}.',
      format: 'Kod {n} hanelidir.',
      resend: 'Yeni kod gönder',
      another: 'Başka bir yol dene',
      wait: '{n} sn sonra başka bir yol deneyebilirsiniz.',
      checking: 'Kontrol ediliyor…',
      offline: 'Bağlantı kesildi; yeniden deneniyor.',
      denied: 'Bu doğrulama bağlantısı artık geçerli değil.',
      loading: 'Yükleniyor…',
    },
    ar: {
      callTitle: 'اتصل بهذا الرقم للتحقق من هاتفك',
      free: 'المكالمة مجانية: نُنهيها قبل الرد.',
      scan: 'امسح الرمز بهاتفك للاتصال',
      waiting: 'في انتظار مكالمتك',
      left: 'الوقت المتبقي',
      verified: 'تم التحقق من رقم الهاتف',
      expired: 'انتهى الوقت قبل أن نتمكن من التحقق من هاتفك.',
      failed: 'تعذّر التحقق من رقم هاتفك.',
      canceled: 'تم إلغاء عملية التحقق هذه.',
      retry: 'حاول مرة أخرى',
      codeTitle: 'أدخل الرمز',
      sms_otp: 'أدخل الرمز المكوّن من {n} أرقام الذي أرسلناه برسالة نصية إلى {phone}.',
      voice_otp: 'أدخل الرمز المكوّن من {n} أرقام الذي قرأناه في المكالمة إلى {phone}.',
      flash_call: 'أدخل آخر {n} أرقام من الرقم الذي اتصل للتو بـ {phone}.',
      answer_call: 'نحن نتصل بـ {phone}. أجب على المكالمة؛ يمكنك إنهاؤها فورًا.',
      codeLabel: 'رمز التحقق',
      verify: 'تحقق',
      wrong: 'هذا الرمز غير صحيح. المحاولات المتبقية: {n}.',
      format: 'الرمز مكوّن من {n} أرقام.',
      resend: 'أرسل رمزًا جديدًا',
      another: 'جرّب طريقة أخرى',
      wait: 'يمكنك تجربة طريقة أخرى بعد {n} ث.',
      checking: 'جارٍ التحقق…',
      offline: 'انقطع الاتصال؛ نحاول مجددًا.',
      denied: 'رابط التحقق هذا لم يعد صالحًا.',
      loading: 'جارٍ التحميل…',
    },
    hi: {
      callTitle: 'अपना फ़ोन सत्यापित करने के लिए इस नंबर पर कॉल करें',
      free: 'कॉल मुफ़्त है: हम उठाने से पहले ही काट देते हैं।',
      scan: 'कॉल करने के लिए अपने फ़ोन से स्कैन करें',
      waiting: 'आपकी कॉल का इंतज़ार है',
      left: 'बचा हुआ समय',
      verified: 'फ़ोन नंबर सत्यापित हो गया',
      expired: 'आपका फ़ोन सत्यापित होने से पहले समय समाप्त हो गया।',
      failed: 'हम आपका फ़ोन नंबर सत्यापित नहीं कर सके।',
      canceled: 'यह सत्यापन रद्द कर दिया गया।',
      retry: 'फिर से कोशिश करें',
      codeTitle: 'अपना कोड डालें',
      sms_otp: '{phone} पर SMS से भेजा गया {n} अंकों का कोड डालें।',
      voice_otp: '{phone} पर कॉल में बोला गया {n} अंकों का कोड डालें।',
      flash_call: 'जिस नंबर से अभी {phone} पर कॉल आई, उसके आख़िरी {n} अंक डालें।',
      answer_call: 'हम {phone} पर कॉल कर रहे हैं। कॉल उठाएँ; आप तुरंत काट सकते हैं।',
      codeLabel: 'सत्यापन कोड',
      verify: 'सत्यापित करें',
      wrong: 'यह कोड सही नहीं है। बचे हुए प्रयास: {n}।',
      format: 'कोड {n} अंकों का है।',
      resend: 'नया कोड भेजें',
      another: 'दूसरा तरीका आज़माएँ',
      wait: '{n} सेकंड बाद आप दूसरा तरीका आज़मा सकते हैं।',
      checking: 'जाँच हो रही है…',
      offline: 'कनेक्शन टूट गया; फिर से कोशिश कर रहे हैं।',
      denied: 'यह सत्यापन लिंक अब मान्य नहीं है।',
      loading: 'लोड हो रहा है…',
    },
    id: {
      callTitle: 'Telepon nomor ini untuk memverifikasi ponsel Anda',
      free: 'Panggilan ini gratis: kami menutupnya sebelum diangkat.',
      scan: 'Pindai dengan ponsel untuk menelepon',
      waiting: 'Menunggu panggilan Anda',
      left: 'Sisa waktu',
      verified: 'Nomor telepon terverifikasi',
      expired: 'Waktu habis sebelum kami dapat memverifikasi ponsel Anda.',
      failed: 'Kami tidak dapat memverifikasi nomor telepon Anda.',
      canceled: 'Verifikasi ini dibatalkan.',
      retry: 'Coba lagi',
      codeTitle: 'Masukkan kode Anda',
      sms_otp: 'Masukkan kode {n} digit yang kami kirim lewat SMS ke {phone}.',
      voice_otp: 'Masukkan kode {n} digit yang kami bacakan dalam panggilan ke {phone}.',
      flash_call: 'Masukkan {n} digit terakhir dari nomor yang baru saja menelepon {phone}.',
      answer_call: 'Kami sedang menelepon {phone}. Angkat panggilannya; Anda bisa langsung menutupnya.',
      codeLabel: 'Kode verifikasi',
      verify: 'Verifikasi',
      wrong: 'Kode itu salah. Sisa percobaan: {n}.',
      format: 'Kode terdiri dari {n} digit.',
      resend: 'Kirim kode baru',
      another: 'Coba cara lain',
      wait: 'Anda bisa mencoba cara lain dalam {n} dtk.',
      checking: 'Memeriksa…',
      offline: 'Koneksi terputus; mencoba lagi.',
      denied: 'Tautan verifikasi ini sudah tidak berlaku.',
      loading: 'Memuat…',
    },
    ja: {
      callTitle: 'この番号に電話して電話番号を確認してください',
      free: '通話は無料です。応答する前にこちらで切ります。',
      scan: 'スマートフォンでスキャンして電話をかける',
      waiting: 'お電話をお待ちしています',
      left: '残り時間',
      verified: '電話番号を確認しました',
      expired: '電話番号を確認する前に時間切れになりました。',
      failed: '電話番号を確認できませんでした。',
      canceled: 'この確認はキャンセルされました。',
      retry: 'もう一度試す',
      codeTitle: 'コードを入力してください',
      sms_otp: '{phone} にSMSで送信した{n}桁のコードを入力してください。',
      voice_otp: '{phone} への通話で読み上げた{n}桁のコードを入力してください。',
      flash_call: '先ほど {phone} に着信した番号の下{n}桁を入力してください。',
      answer_call: '{phone} に電話をかけています。応答してください。すぐに切ってもかまいません。',
      codeLabel: '確認コード',
      verify: '確認',
      wrong: 'コードが正しくありません。残りの試行回数: {n}。',
      format: 'コードは{n}桁です。',
      resend: '新しいコードを送信',
      another: '別の方法を試す',
      wait: '{n} 秒後に別の方法を試せます。',
      checking: '確認しています…',
      offline: '接続が切れました。再試行しています。',
      denied: 'この確認リンクは無効になりました。',
      loading: '読み込み中…',
    },
    ko: {
      callTitle: '휴대전화 인증을 위해 이 번호로 전화하세요',
      free: '통화는 무료입니다. 받기 전에 끊습니다.',
      scan: '휴대전화로 스캔해서 전화하기',
      waiting: '전화를 기다리는 중',
      left: '남은 시간',
      verified: '전화번호가 인증되었습니다',
      expired: '전화번호를 인증하기 전에 시간이 초과되었습니다.',
      failed: '전화번호를 인증하지 못했습니다.',
      canceled: '이 인증은 취소되었습니다.',
      retry: '다시 시도',
      codeTitle: '코드를 입력하세요',
      sms_otp: '{phone}(으)로 문자로 보낸 {n}자리 코드를 입력하세요.',
      voice_otp: '{phone}(으)로 건 전화에서 읽어 드린 {n}자리 코드를 입력하세요.',
      flash_call: '방금 {phone}(으)로 전화한 번호의 마지막 {n}자리를 입력하세요.',
      answer_call: '{phone}(으)로 전화하고 있습니다. 전화를 받으세요. 바로 끊어도 됩니다.',
      codeLabel: '인증 코드',
      verify: '인증',
      wrong: '코드가 올바르지 않습니다. 남은 시도: {n}회.',
      format: '코드는 {n}자리입니다.',
      resend: '새 코드 보내기',
      another: '다른 방법으로 시도',
      wait: '{n}초 후에 다른 방법을 시도할 수 있습니다.',
      checking: '확인 중…',
      offline: '연결이 끊어졌습니다. 다시 시도하는 중입니다.',
      denied: '이 인증 링크는 더 이상 유효하지 않습니다.',
      loading: '불러오는 중…',
    },
    zh: {
      callTitle: '拨打此号码以验证您的手机',
      free: '通话免费：我们会在接听前挂断。',
      scan: '用手机扫描即可拨打',
      waiting: '正在等待您的来电',
      left: '剩余时间',
      verified: '手机号码已验证',
      expired: '在验证您的手机之前已超时。',
      failed: '我们无法验证您的手机号码。',
      canceled: '此验证已取消。',
      retry: '重试',
      codeTitle: '输入验证码',
      sms_otp: '请输入我们通过短信发送到 {phone} 的 {n} 位验证码。',
      voice_otp: '请输入我们在致电 {phone} 时读出的 {n} 位验证码。',
      flash_call: '请输入刚刚呼叫 {phone} 的号码的最后 {n} 位。',
      answer_call: '我们正在呼叫 {phone}。请接听；接通后可立即挂断。',
      codeLabel: '验证码',
      verify: '验证',
      wrong: '验证码不正确。剩余尝试次数：{n}。',
      format: '验证码为 {n} 位数字。',
      resend: '发送新验证码',
      another: '换一种方式',
      wait: '{n} 秒后可换一种方式。',
      checking: '正在验证…',
      offline: '连接已断开，正在重试。',
      denied: '此验证链接已失效。',
      loading: '正在加载…',
    },
    'zh-TW': {
      callTitle: '撥打此號碼以驗證您的手機',
      free: '通話免費：我們會在接聽前掛斷。',
      scan: '用手機掃描即可撥打',
      waiting: '正在等待您的來電',
      left: '剩餘時間',
      verified: '手機號碼已驗證',
      expired: '在驗證您的手機之前已逾時。',
      failed: '我們無法驗證您的手機號碼。',
      canceled: '此驗證已取消。',
      retry: '重試',
      codeTitle: '輸入驗證碼',
      sms_otp: '請輸入我們以簡訊傳送到 {phone} 的 {n} 位數驗證碼。',
      voice_otp: '請輸入我們致電 {phone} 時唸出的 {n} 位數驗證碼。',
      flash_call: '請輸入剛剛撥打 {phone} 的號碼的最後 {n} 位數。',
      answer_call: '我們正在撥打 {phone}。請接聽；接通後可立即掛斷。',
      codeLabel: '驗證碼',
      verify: '驗證',
      wrong: '驗證碼不正確。剩餘嘗試次數：{n}。',
      format: '驗證碼為 {n} 位數字。',
      resend: '傳送新驗證碼',
      another: '改用其他方式',
      wait: '{n} 秒後可改用其他方式。',
      checking: '正在驗證…',
      offline: '連線中斷，正在重試。',
      denied: '此驗證連結已失效。',
      loading: '載入中…',
    },
    vi: {
      callTitle: 'Gọi số này để xác minh điện thoại của bạn',
      free: 'Cuộc gọi miễn phí: chúng tôi ngắt máy trước khi nhấc máy.',
      scan: 'Quét bằng điện thoại để gọi',
      waiting: 'Đang chờ cuộc gọi của bạn',
      left: 'Thời gian còn lại',
      verified: 'Số điện thoại đã được xác minh',
      expired: 'Đã hết thời gian trước khi chúng tôi xác minh được điện thoại của bạn.',
      failed: 'Chúng tôi không thể xác minh số điện thoại của bạn.',
      canceled: 'Yêu cầu xác minh này đã bị hủy.',
      retry: 'Thử lại',
      codeTitle: 'Nhập mã của bạn',
      sms_otp: 'Nhập mã {n} chữ số chúng tôi đã gửi qua SMS tới {phone}.',
      voice_otp: 'Nhập mã {n} chữ số được đọc trong cuộc gọi tới {phone}.',
      flash_call: 'Nhập {n} chữ số cuối của số vừa gọi tới {phone}.',
      answer_call: 'Chúng tôi đang gọi tới {phone}. Hãy nghe máy; bạn có thể gác máy ngay.',
      codeLabel: 'Mã xác minh',
      verify: 'Xác minh',
      wrong: 'Mã không đúng. Số lần thử còn lại: {n}.',
      format: 'Mã gồm {n} chữ số.',
      resend: 'Gửi mã mới',
      another: 'Thử cách khác',
      wait: 'Bạn có thể thử cách khác sau {n} giây.',
      checking: 'Đang kiểm tra…',
      offline: 'Mất kết nối; đang thử lại.',
      denied: 'Liên kết xác minh này không còn hiệu lực.',
      loading: 'Đang tải…',
    },
    th: {
      callTitle: 'โทรไปที่หมายเลขนี้เพื่อยืนยันโทรศัพท์ของคุณ',
      free: 'โทรฟรี: เราจะวางสายก่อนรับสาย',
      scan: 'สแกนด้วยโทรศัพท์เพื่อโทร',
      waiting: 'กำลังรอสายของคุณ',
      left: 'เวลาที่เหลือ',
      verified: 'ยืนยันหมายเลขโทรศัพท์แล้ว',
      expired: 'หมดเวลาก่อนที่เราจะยืนยันโทรศัพท์ของคุณได้',
      failed: 'เราไม่สามารถยืนยันหมายเลขโทรศัพท์ของคุณได้',
      canceled: 'การยืนยันนี้ถูกยกเลิกแล้ว',
      retry: 'ลองอีกครั้ง',
      codeTitle: 'กรอกรหัสของคุณ',
      sms_otp: 'กรอกรหัส {n} หลักที่เราส่งทาง SMS ไปยัง {phone}',
      voice_otp: 'กรอกรหัส {n} หลักที่อ่านในสายที่โทรไปยัง {phone}',
      flash_call: 'กรอกเลข {n} หลักสุดท้ายของหมายเลขที่เพิ่งโทรหา {phone}',
      answer_call: 'เรากำลังโทรหา {phone} กรุณารับสาย คุณวางสายได้ทันที',
      codeLabel: 'รหัสยืนยัน',
      verify: 'ยืนยัน',
      wrong: 'รหัสไม่ถูกต้อง เหลือโอกาสอีก {n} ครั้ง',
      format: 'รหัสมี {n} หลัก',
      resend: 'ส่งรหัสใหม่',
      another: 'ลองวิธีอื่น',
      wait: 'คุณลองวิธีอื่นได้ในอีก {n} วินาที',
      checking: 'กำลังตรวจสอบ…',
      offline: 'การเชื่อมต่อขาดหาย กำลังลองใหม่',
      denied: 'ลิงก์ยืนยันนี้ใช้ไม่ได้แล้ว',
      loading: 'กำลังโหลด…',
    },
    sv: {
      callTitle: 'Ring det här numret för att verifiera din telefon',
      free: 'Samtalet är gratis: vi lägger på innan vi svarar.',
      scan: 'Skanna med telefonen för att ringa',
      waiting: 'Väntar på ditt samtal',
      left: 'Tid kvar',
      verified: 'Telefonnumret är verifierat',
      expired: 'Tiden tog slut innan vi kunde verifiera din telefon.',
      failed: 'Vi kunde inte verifiera ditt telefonnummer.',
      canceled: 'Den här verifieringen avbröts.',
      retry: 'Försök igen',
      codeTitle: 'Ange din kod',
      sms_otp: 'Ange den {n}-siffriga koden vi skickade via sms till {phone}.',
      voice_otp: 'Ange den {n}-siffriga koden vi läste upp i samtalet till {phone}.',
      flash_call: 'Ange de sista {n} siffrorna i numret som just ringde {phone}.',
      answer_call: 'Vi ringer {phone}. Svara; du kan lägga på direkt.',
      codeLabel: 'Verifieringskod',
      verify: 'Verifiera',
      wrong: 'Koden stämmer inte. Försök kvar: {n}.',
      format: 'Koden har {n} siffror.',
      resend: 'Skicka en ny kod',
      another: 'Försök på ett annat sätt',
      wait: 'Du kan försöka på ett annat sätt om {n} s.',
      checking: 'Kontrollerar…',
      offline: 'Anslutningen bröts; försöker igen.',
      denied: 'Den här verifieringslänken gäller inte längre.',
      loading: 'Laddar…',
    },
    ro: {
      callTitle: 'Sună la acest număr pentru a-ți verifica telefonul',
      free: 'Apelul este gratuit: închidem înainte de a răspunde.',
      scan: 'Scanează cu telefonul pentru a suna',
      waiting: 'Așteptăm apelul tău',
      left: 'Timp rămas',
      verified: 'Număr de telefon verificat',
      expired: 'Timpul a expirat înainte să-ți putem verifica telefonul.',
      failed: 'Nu am putut verifica numărul tău de telefon.',
      canceled: 'Această verificare a fost anulată.',
      retry: 'Încearcă din nou',
      codeTitle: 'Introdu codul',
      sms_otp: 'Introdu codul de {n} cifre trimis prin SMS la {phone}.',
      voice_otp: 'Introdu codul de {n} cifre citit în apelul către {phone}.',
      flash_call: 'Introdu ultimele {n} cifre ale numărului care tocmai a sunat la {phone}.',
      answer_call: 'Sunăm la {phone}. Răspunde; poți închide imediat.',
      codeLabel: 'Cod de verificare',
      verify: 'Verifică',
      wrong: 'Codul nu este corect. Încercări rămase: {n}.',
      format: 'Codul are {n} cifre.',
      resend: 'Trimite un cod nou',
      another: 'Încearcă altfel',
      wait: 'Poți încerca altfel peste {n} s.',
      checking: 'Se verifică…',
      offline: 'Conexiune pierdută; reîncercăm.',
      denied: 'Acest link de verificare nu mai este valabil.',
      loading: 'Se încarcă…',
    },
    cs: {
      callTitle: 'Zavolejte na toto číslo a ověřte svůj telefon',
      free: 'Hovor je zdarma: zavěsíme dřív, než ho přijmeme.',
      scan: 'Naskenujte telefonem a zavolejte',
      waiting: 'Čekáme na váš hovor',
      left: 'Zbývající čas',
      verified: 'Telefonní číslo ověřeno',
      expired: 'Čas vypršel dřív, než jsme stihli ověřit váš telefon.',
      failed: 'Vaše telefonní číslo se nepodařilo ověřit.',
      canceled: 'Toto ověření bylo zrušeno.',
      retry: 'Zkusit znovu',
      codeTitle: 'Zadejte kód',
      sms_otp: 'Zadejte {n}místný kód, který jsme poslali SMS na {phone}.',
      voice_otp: 'Zadejte {n}místný kód přečtený při hovoru na {phone}.',
      flash_call: 'Zadejte posledních {n} číslic čísla, které právě volalo na {phone}.',
      answer_call: 'Voláme na {phone}. Přijměte hovor; můžete hned zavěsit.',
      codeLabel: 'Ověřovací kód',
      verify: 'Ověřit',
      wrong: 'Kód není správný. Zbývající pokusy: {n}.',
      format: 'Kód má {n} číslic.',
      resend: 'Poslat nový kód',
      another: 'Zkusit jinak',
      wait: 'Jinak to můžete zkusit za {n} s.',
      checking: 'Ověřujeme…',
      offline: 'Spojení ztraceno; zkoušíme znovu.',
      denied: 'Tento ověřovací odkaz už neplatí.',
      loading: 'Načítání…',
    },
    el: {
      callTitle: 'Καλέστε αυτόν τον αριθμό για να επαληθεύσετε το τηλέφωνό σας',
      free: 'Η κλήση είναι δωρεάν: κλείνουμε πριν απαντήσουμε.',
      scan: 'Σαρώστε με το τηλέφωνό σας για να καλέσετε',
      waiting: 'Αναμονή της κλήσης σας',
      left: 'Χρόνος που απομένει',
      verified: 'Ο αριθμός τηλεφώνου επαληθεύτηκε',
      expired: 'Ο χρόνος έληξε πριν επαληθεύσουμε το τηλέφωνό σας.',
      failed: 'Δεν μπορέσαμε να επαληθεύσουμε τον αριθμό σας.',
      canceled: 'Αυτή η επαλήθευση ακυρώθηκε.',
      retry: 'Δοκιμάστε ξανά',
      codeTitle: 'Εισαγάγετε τον κωδικό σας',
      sms_otp: 'Εισαγάγετε τον {n}ψήφιο κωδικό που στείλαμε με SMS στο {phone}.',
      voice_otp: 'Εισαγάγετε τον {n}ψήφιο κωδικό που ακούσατε στην κλήση στο {phone}.',
      flash_call: 'Εισαγάγετε τα τελευταία {n} ψηφία του αριθμού που μόλις κάλεσε το {phone}.',
      answer_call: 'Καλούμε το {phone}. Απαντήστε· μπορείτε να κλείσετε αμέσως.',
      codeLabel: 'Κωδικός επαλήθευσης',
      verify: 'Επαλήθευση',
      wrong: 'Ο κωδικός δεν είναι σωστός. Απομένουν {n} προσπάθειες.',
      format: 'Ο κωδικός έχει {n} ψηφία.',
      resend: 'Αποστολή νέου κωδικού',
      another: 'Δοκιμάστε αλλιώς',
      wait: 'Μπορείτε να δοκιμάσετε αλλιώς σε {n} δευτ.',
      checking: 'Έλεγχος…',
      offline: 'Η σύνδεση χάθηκε· νέα προσπάθεια.',
      denied: 'Αυτός ο σύνδεσμος επαλήθευσης δεν ισχύει πλέον.',
      loading: 'Φόρτωση…',
    },
  };

  const CSS = `
:host{display:block;font-family:var(--rg-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--rg-fg,#1f1f1f);max-width:var(--rg-max-width,26rem)}
.card{background:var(--rg-bg,#fff);border:1px solid var(--rg-border,#c4c7c5);border-radius:var(--rg-radius,12px);padding:1.25rem;box-sizing:border-box}
h2{font-size:1.1rem;margin:0 0 .75rem;line-height:1.3}
p{margin:.5rem 0;line-height:1.45}
.muted{color:var(--rg-muted,#474747);font-size:.9rem}
.number{display:block;font-size:1.6rem;font-weight:700;letter-spacing:.03em;color:var(--rg-accent,#0b57d0);text-decoration:none;margin:.25rem 0;word-break:break-all}
.number:hover{text-decoration:underline}
.qr{margin:.5rem 0}
.qr img{width:9.5rem;height:9.5rem;display:block}
@media (pointer:coarse) and (hover:none){.qr{display:none}.number{font-size:2rem}}
.timer{display:flex;align-items:center;gap:.5rem;margin-top:.75rem;font-variant-numeric:tabular-nums}
.timer time{font-weight:700}
progress{width:100%;height:.4rem;accent-color:var(--rg-accent,#0b57d0)}
.dot{width:.6rem;height:.6rem;border-radius:50%;background:var(--rg-accent,#0b57d0);animation:p 1.2s infinite}
@keyframes p{50%{opacity:.25}}
@media (prefers-reduced-motion:reduce){.dot{animation:none}}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
.row{display:flex;gap:.5rem;flex-wrap:wrap}
input{font:inherit;font-size:1.4rem;letter-spacing:.3em;padding:.5rem .6rem;border:1px solid var(--rg-border,#747775);border-radius:calc(var(--rg-radius,12px)/2);width:10ch;flex:1 1 8rem;min-width:0;background:var(--rg-bg,#fff);color:inherit}
button{font:inherit;min-height:2.75rem;padding:.5rem 1rem;border-radius:calc(var(--rg-radius,12px)/2);border:1px solid var(--rg-accent,#0b57d0);background:var(--rg-accent,#0b57d0);color:var(--rg-accent-fg,#fff);cursor:pointer;font-weight:600}
button.link{background:transparent;color:var(--rg-accent,#0b57d0);border-color:transparent;padding:.5rem .25rem;text-decoration:underline}
button[disabled]{opacity:.6;cursor:default}
:focus-visible{outline:3px solid var(--rg-focus,#0b57d0);outline-offset:2px}
.msg{min-height:1.45em;color:var(--rg-error,#b3261e);font-weight:600}
.actions{display:flex;gap:1rem;flex-wrap:wrap;margin-top:.5rem}
.result{display:flex;gap:.75rem;align-items:flex-start}
.result svg{flex:none;width:2rem;height:2rem}
.ok{color:var(--rg-success,#146c2e)}
.bad{color:var(--rg-error,#b3261e)}
.result h2{color:inherit;margin:.2rem 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

  const KNOWN_EVENTS = ['verification.created', 'verification.step', 'verification.verified', 'verification.expired',
    'verification.canceled', 'verification.failed', 'call.received', 'check.failed', 'sms.sent', 'sms.delivered',
    'sms.failed', 'call.ringing', 'call.answered', 'call.ended', 'call.placed'];

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const mmss = (s) => Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  const ICON_OK = '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M7 12.5l3.2 3.2L17.5 8.5" stroke="#fff" stroke-width="2.4" fill="none"/></svg>';
  const ICON_BAD = '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M8 8l8 8M16 8l-8 8" stroke="#fff" stroke-width="2.4"/></svg>';

  // pickLang is the first wanted language with strings: the tag itself
  // ("pt-BR", "zh-TW"), else its language ("fr" for "fr-CA"; Hong Kong and
  // Macau read traditional Chinese).
  function pickLang(attr) {
    const wanted = [attr, ...(navigator.languages || [navigator.language])].filter(Boolean);
    for (const l of wanted) {
      const tag = String(l).toLowerCase();
      const exact = Object.keys(T).find((k) => k.toLowerCase() === tag);
      if (exact) return exact;
      if (tag === 'zh-hk' || tag === 'zh-mo' || tag.startsWith('zh-hant')) return 'zh-TW';
      const base = tag.split('-')[0];
      if (T[base]) return base;
    }
    return 'en';
  }

  class RingGateVerify extends HTMLElement {
    static get observedAttributes() { return ['verification-id', 'token', 'server', 'lang']; }

    constructor() {
      super();
      this.root = this.attachShadow({ mode: 'open' });
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        this.root.adoptedStyleSheets = [sheet];
      } catch (e) { // older engines: an inline style element (needs style-src 'unsafe-inline')
        const st = document.createElement('style');
        st.textContent = CSS;
        this.root.appendChild(st);
      }
      this.card = document.createElement('div');
      this.card.className = 'card';
      this.card.setAttribute('part', 'card');
      this.card.innerHTML = '<div class="sr" role="status" aria-live="polite"></div><div class="body"></div>';
      this.root.appendChild(this.card);
      this.live = this.card.firstChild;
      this.body = this.card.lastChild;
    }

    connectedCallback() { this.restart(); }
    disconnectedCallback() { this.stop(); }
    attributeChangedCallback() { if (this.isConnected) this.restart(); }

    t(key, vars) {
      const s = (T[this.lang_] || T.en)[key] || T.en[key] || key;
      return s.replace(/\{(\w+)\}/g, (_, k) => esc(vars && k in vars ? vars[k] : ''));
    }

    url(path) {
      const server = (this.getAttribute('server') || DEFAULT_SERVER).replace(/\/$/, '');
      return server + '/v1/verifications/' + encodeURIComponent(this.id_) + '/' + path + '?token=' + encodeURIComponent(this.token_);
    }

    restart() {
      this.stop();
      this.id_ = this.getAttribute('verification-id') || '';
      this.token_ = this.getAttribute('token') || '';
      this.lang_ = pickLang(this.getAttribute('lang'));
      this.card.setAttribute('lang', this.lang_);
      this.status = null;
      this.done = false;
      this.shown = '';
      this.body.innerHTML = '<p class="muted">' + this.t('loading') + '</p>';
      if (!this.id_ || !this.token_) return;
      this.alive = true;
      this.refresh().then(() => { if (this.alive && this.pending()) this.listen(); });
      this.ticker = setInterval(() => this.tick(), 1000);
    }

    stop() {
      this.alive = false;
      if (this.es) this.es.close();
      this.es = null;
      clearInterval(this.ticker);
      clearInterval(this.poller);
      this.poller = null;
    }

    pending() { return this.status && this.status.status === 'pending'; }

    // listen follows the live stream; while it is down, it polls instead.
    listen() {
      if (!window.EventSource) return this.poll(true);
      const es = new EventSource(this.url('events'));
      this.es = es;
      const wake = () => this.refresh();
      for (const type of KNOWN_EVENTS) es.addEventListener(type, wake);
      es.onmessage = wake;
      es.onopen = () => this.poll(false);
      es.onerror = () => {
        if (!this.alive) return;
        this.poll(this.pending());
        if (es.readyState === EventSource.CLOSED && this.pending()) { // not reconnecting by itself
          setTimeout(() => { if (this.alive && this.es === es && this.pending()) this.listen(); }, 3000);
        }
      };
    }

    poll(on) {
      if (on && !this.poller) this.poller = setInterval(() => this.refresh(), 2000);
      if (!on && this.poller) { clearInterval(this.poller); this.poller = null; }
    }

    async refresh() {
      if (this.busy) { this.again = true; return; }
      this.busy = true;
      try {
        const r = await fetch(this.url('status'), { cache: 'no-store' });
        if (r.status === 401) return this.fail('denied');
        if (!r.ok) throw new Error('status ' + r.status);
        this.apply(await r.json());
        this.offline(false);
      } catch (e) {
        this.offline(true);
      } finally {
        this.busy = false;
        if (this.again) { this.again = false; this.refresh(); }
      }
    }

    offline(on) {
      const m = this.body.querySelector('.net');
      if (m) m.textContent = on ? this.t('offline') : '';
    }

    fail(key) {
      this.stop();
      this.body.innerHTML = '<div class="result bad" data-state="error">' + ICON_BAD + '<h2>' + this.t(key) + '</h2></div>';
      this.announce(this.t(key));
    }

    apply(s) {
      if (this.done) return; // an answer in flight after the end changes nothing, and is not announced twice
      this.status = s;
      this.deadline = Date.now() + (s.expires_in_s || 0) * 1000;
      if (!this.total || s.channel !== (this.shownChannel || '')) this.total = Math.max(1, s.expires_in_s || 1);
      const key = s.status + '/' + s.channel + '/' + (s.dial_number || '') + '/' + (s.next_channel || '');
      if (key !== this.shown) {
        this.shown = key;
        this.shownChannel = s.channel;
        this.render();
      }
      this.tick();
      if (s.status !== 'pending') {
        this.done = true;
        this.stop();
        this.emit(s.status === 'verified' ? 'ringgate-verified' : 'ringgate-' + s.status, s);
      }
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
    }

    announce(text) {
      this.live.textContent = '';
      setTimeout(() => { this.live.textContent = text; }, 50);
    }

    left() { return Math.max(0, Math.round((this.deadline - Date.now()) / 1000)); }

    tick() {
      if (!this.pending()) return;
      const left = this.left();
      const time = this.body.querySelector('time');
      if (time) {
        time.textContent = mmss(left);
        time.setAttribute('datetime', 'PT' + left + 'S');
      }
      const bar = this.body.querySelector('progress');
      if (bar) { bar.max = this.total; bar.value = left; }
      if (left === 0 && !this.poller) this.poll(true); // the server ends it; hear about it even without a stream
    }

    timer(label) {
      return '<div class="timer"><span class="dot" aria-hidden="true"></span><span>' + label + '</span>' +
        '<time aria-live="off">' + mmss(this.left()) + '</time></div>' +
        '<progress aria-label="' + this.t('left') + '"></progress><p class="muted net" aria-live="polite"></p>';
    }

    actions(resend) {
      const s = this.status;
      let out = '';
      if (resend) out += '<button type="button" class="link" data-act="resend">' + this.t('resend') + '</button>';
      if (s.next_channel) out += '<button type="button" class="link" data-act="next">' + this.t('another') + '</button>';
      return out ? '<div class="actions">' + out + '</div>' : '';
    }

    render() {
      const s = this.status;
      const b = this.body;
      b.dataset.state = s.status;
      if (s.status === 'verified') {
        b.innerHTML = '<div class="result ok" data-state="verified">' + ICON_OK + '<div><h2 tabindex="-1">' + this.t('verified') + '</h2><p class="muted">' + esc(s.phone) + '</p></div></div>';
        this.announce(this.t('verified'));
        b.querySelector('h2').focus();
        return;
      }
      if (s.status !== 'pending') {
        const msg = this.t(s.status === 'expired' ? 'expired' : s.status === 'canceled' ? 'canceled' : 'failed');
        b.innerHTML = '<div class="result bad" data-state="' + esc(s.status) + '">' + ICON_BAD + '<div><h2 tabindex="-1">' + msg + '</h2>' +
          '<button type="button" data-act="retry">' + this.t('retry') + '</button></div></div>';
        b.querySelector('[data-act=retry]').onclick = () => this.emit('ringgate-retry', { id: this.id_, status: s.status, reason: s.reason });
        this.announce(msg);
        b.querySelector('h2').focus();
        return;
      }
      if (s.channel === 'missed_call') {
        const n = esc(s.dial_number || '');
        const qr = (this.getAttribute('server') || DEFAULT_SERVER).replace(/\/$/, '') + '/widget/qr.svg?tel=' + encodeURIComponent(s.dial_number || '');
        b.innerHTML = '<h2 id="t">' + this.t('callTitle') + '</h2>' +
          '<a class="number" href="tel:' + n + '" aria-describedby="free">' + n + '</a>' +
          '<div class="qr"><img src="' + esc(qr) + '" alt="' + this.t('scan') + ' ' + n + '"><p class="muted">' + this.t('scan') + '</p></div>' +
          '<p class="muted" id="free">' + this.t('free') + '</p>' + this.timer(this.t('waiting')) + this.actions(false);
        this.announce(this.t('callTitle') + ' ' + (s.dial_number || ''));
      } else if (s.channel === 'answer_call') {
        b.innerHTML = '<h2>' + this.t('answer_call', { phone: s.phone }) + '</h2>' + this.timer(this.t('left')) + this.actions(false);
      } else {
        const n = s.code_length || 6;
        b.innerHTML = '<h2>' + this.t('codeTitle') + '</h2><p id="hint">' + this.t(s.channel, { n, phone: s.phone }) + '</p>' +
          '<form novalidate><label for="code">' + this.t('codeLabel') + '</label><div class="row">' +
          '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{' + n + '}" maxlength="' + n + '" ' +
          'minlength="' + n + '" required aria-describedby="hint msg" spellcheck="false">' +
          '<button type="submit">' + this.t('verify') + '</button></div><p class="msg" id="msg" role="alert"></p></form>' +
          this.timer(this.t('left')) + this.actions(s.channel !== 'flash_call');
        const form = b.querySelector('form');
        form.onsubmit = (e) => { e.preventDefault(); this.check(n); };
        const input = b.querySelector('input');
        input.oninput = () => { input.value = input.value.replace(/\D/g, '').slice(0, n); };
        this.announce(this.t(s.channel, { n, phone: s.phone }));
      }
      for (const btn of b.querySelectorAll('[data-act=next]')) btn.onclick = () => this.next(btn);
      for (const btn of b.querySelectorAll('[data-act=resend]')) btn.onclick = () => this.emit('ringgate-retry', { id: this.id_, status: s.status, reason: 'resend' });
    }

    async check(n) {
      const input = this.body.querySelector('input');
      const msg = this.body.querySelector('.msg');
      const btn = this.body.querySelector('button[type=submit]');
      const code = input.value.trim();
      if (!new RegExp('^[0-9]{' + n + '}$').test(code)) {
        msg.textContent = this.t('format', { n });
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      btn.disabled = true;
      msg.textContent = '';
      try {
        // No Content-Type: a body without one keeps the cross-origin call a
        // CORS "simple request" (no preflight); ringgate reads it as JSON.
        const r = await fetch(this.url('check'), { method: 'POST', body: new Blob([JSON.stringify({ code })]) });
        const body = await r.json();
        if (r.ok && body.valid) return this.apply(body);
        if (r.ok) {
          this.apply(body);
          if (body.status === 'pending') {
            msg.textContent = this.t('wrong', { n: body.attempts_remaining });
            input.setAttribute('aria-invalid', 'true');
            input.select();
          }
          return;
        }
        if (r.status === 409) return this.refresh();
        msg.textContent = body.code === 'invalid_code' ? this.t('format', { n }) : (body.detail || body.title);
      } catch (e) {
        msg.textContent = this.t('offline');
      } finally {
        if (btn.isConnected) btn.disabled = false;
      }
    }

    async next(btn) {
      btn.disabled = true;
      try {
        const r = await fetch(this.url('next'), { method: 'POST' });
        if (r.ok) return this.apply(await r.json());
        if (r.status === 429) {
          // Resends are paced (docs/abuse.md): say how long, then offer it again.
          const body = await r.json().catch(() => ({}));
          const n = Math.max(1, body.retry_after_s || 10);
          const msg = this.body.querySelector('.msg'); // role=alert: read out
          if (msg) msg.textContent = this.t('wait', { n });
          else this.announce(this.t('wait', { n }));
          setTimeout(() => { if (btn.isConnected) btn.disabled = false; }, n * 1000);
          return;
        }
        this.refresh();
      } catch (e) {
        this.offline(true);
        btn.disabled = false;
      }
    }
  }

  customElements.define('ringgate-verify', RingGateVerify);

  window.RingGate = {
    // mount puts a widget in target (an element or a selector) and returns it.
    mount(target, opts) {
      const host = typeof target === 'string' ? document.querySelector(target) : target;
      const el = document.createElement('ringgate-verify');
      if (opts.server) el.setAttribute('server', opts.server);
      if (opts.lang) el.setAttribute('lang', opts.lang);
      el.setAttribute('verification-id', opts.verificationId);
      el.setAttribute('token', opts.token);
      host.replaceChildren(el);
      return el;
    },
  };
})();
